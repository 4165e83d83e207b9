// The operator settings file: detection tunables changed from the desktop app (or by any
// member of the control group) are kept here, apart from root's own config, and read after
// it. It lives under the state directory, which the service's sandbox leaves writable while
// /etc stays read-only; it may only hold keys an operator may change (config.ts enforces it).

export const OPERATOR_FILE_HEADER = `# PortSentry Desktop operator settings: detection tunables changed from the app or with
# portsentryctl by members of the control group. Read after the main config; the values here win.
# Only keys an operator may change are allowed here. Written by portsentryd; edit as root if you must.
`;
