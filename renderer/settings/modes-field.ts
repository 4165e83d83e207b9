// The MODES setting as the settings window offers it: one TCP mode and one UDP mode (or
// off), each with a sentence in plain words, read from and written back to the key's text
// ("tcp udp", "atcp audp"). Validation stays the key table's (modeList). Pure.

import { ALL_MODES, protocolOfMode, type Mode, type Protocol } from '../../shared/domain/types.js';

export interface ModeChoice {
  /** The mode, or '' for none of this protocol. */
  readonly value: Mode | '';
  readonly name: string;
  readonly explanation: string;
}

export const MODE_CHOICES: Readonly<Record<Protocol, readonly ModeChoice[]>> = {
  tcp: [
    { value: 'tcp', name: 'Tripwire ports (classic)', explanation: 'Opens the TCP tripwire ports; a connection or a half-open probe to one of them counts as a scan.' },
    {
      value: 'stcp',
      name: 'Stealth watch of the tripwire ports',
      explanation: 'Watches the TCP tripwire ports without opening them, so scanners see them closed; catches SYN, FIN, NULL and XMAS probes.',
    },
    { value: 'atcp', name: 'Advanced: every unused port', explanation: 'Watches every TCP port below the limit that nothing on this computer listens on; the widest net.' },
    { value: '', name: 'Off', explanation: 'No TCP scan detection.' },
  ],
  udp: [
    { value: 'udp', name: 'Tripwire ports (classic)', explanation: 'Opens the UDP tripwire ports; any datagram to one of them counts as a scan.' },
    { value: 'sudp', name: 'Stealth watch of the tripwire ports', explanation: 'Watches the UDP tripwire ports without opening them.' },
    { value: 'audp', name: 'Advanced: every unused port', explanation: 'Watches every UDP port below the limit that nothing on this computer listens on.' },
    { value: '', name: 'Off', explanation: 'No UDP scan detection.' },
  ],
};

/** The TCP and UDP choice in a MODES text; unknown words are left to the key's own check. */
export function splitModes(text: string): { tcp: Mode | ''; udp: Mode | '' } {
  const words = text
    .trim()
    .split(/[\s,]+/)
    .map((word) => word.replace(/^-/, ''));
  const pick = (protocol: Protocol) => (words.find((word) => (ALL_MODES as readonly string[]).includes(word) && protocolOfMode(word as Mode) === protocol) as Mode | undefined) ?? '';
  return { tcp: pick('tcp'), udp: pick('udp') };
}

/** The MODES text for a TCP and a UDP choice ("tcp udp", "atcp", ...). */
export function joinModes(tcp: string, udp: string): string {
  return [tcp, udp].filter((mode) => mode !== '').join(' ');
}

export function explainMode(protocol: Protocol, value: string): string {
  return MODE_CHOICES[protocol].find((choice) => choice.value === value)?.explanation ?? '';
}
