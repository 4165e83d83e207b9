// The configuration the helper runs when no file is given: classic PortSentry's tripwire
// ports, blocking on, our nftables table as the block. Kept in the classic syntax and
// parsed by the same parser as any file, so it is valid by construction (and tested).

export const EMBEDDED_CONFIG_NAME = '<embedded defaults>';

export const EMBEDDED_CONFIG_TEXT = `# PortSentry Desktop embedded defaults (classic portsentry.conf syntax).
# Tripwire ports: the ones PortSentry 1.2 shipped with, known backdoor and probe targets, less
# those inside Linux's ephemeral range (32768-60999), where a late reply to this host's own
# query lands: TCP 32771-32774, 40421, 49724, 54320 and UDP 32770-32774, 34555, 37444, 54321.
# In their place, backdoor ports below it: SubSeven (TCP 1243, 27374), Trinoo (UDP 27444) and
# Back Orifice's other port (UDP 31338).
TCP_PORTS="1,11,15,79,111,119,143,540,635,1080,1243,1524,2000,5742,6667,12345,12346,20034,27374,27665,31337"
UDP_PORTS="1,7,9,69,161,162,513,635,640,641,700,27444,31335,31337,31338"
ADVANCED_PORTS_TCP="1024"
ADVANCED_PORTS_UDP="1024"
ADVANCED_EXCLUDE_TCP="113,139"
ADVANCED_EXCLUDE_UDP="520,138,137,67"
IGNORE_FILE="/etc/portsentry-desktop/portsentry.ignore"
HISTORY_FILE="/var/lib/portsentry/portsentry.history"
BLOCKED_FILE="/var/lib/portsentry-desktop/portsentry.blocked"
RESOLVE_HOST="0"
BLOCK_TCP="1"
BLOCK_UDP="1"
BLOCK_BACKEND="nftables"
NFT_TABLE="portsentry"
BLOCK_TIMEOUT="0"
IPV6="1"
SCAN_TRIGGER="0"
# Probes from an already blocked host: one line a minute per host. A config without this key
# (every PortSentry 1.2 config) logs each probe, as 1.2 did.
REPEAT_LOG="minute"
# Detection modes when portsentryd gets no -tcp/-udp/... flags (flags win): 1.2's classic pair.
MODES="tcp udp"
`;
