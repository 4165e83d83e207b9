// This product's own version, in one place: the status RPC, the LAPI's User-Agent and the
// metrics' portsentry_build_info read it (a test holds it to package.json).

export const DESKTOP_VERSION = '0.1.0';
