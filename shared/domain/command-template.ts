// KILL_ROUTE and KILL_RUN_CMD templates, turned into an argument vector once at config
// time. The original handed the substituted string to system(); we never use a shell:
// the template is split into words here (quotes understood, shell operators refused) and
// $TARGET$ / $PORT$ / $MODE$ are substituted inside the words after the address was
// validated, so an address can never become a second word, let alone a second command.
// Shell operators are refused inside quotes as well: quoted, they would be harmless to us,
// but they are exactly what `sh -c '...'` needs, and no block command needs them. A program
// that is itself a shell or an interpreter is accepted only where the caller says so (root's
// own config file), never from the control channel. Pure and node-free: the settings window
// runs the same checks.

export interface CommandTemplate {
  /** The template as written in the config file, for logs. */
  readonly raw: string;
  /** Program and arguments, placeholders still in place. */
  readonly argv: readonly [string, ...string[]];
}

export interface CommandVariables {
  /** A validated canonical address (see address.ts). */
  readonly target: string;
  readonly port: number;
  readonly mode: string;
}

export type TemplateResult = { readonly ok: true; readonly template: CommandTemplate } | { readonly ok: false; readonly message: string };

const PLACEHOLDERS = ['$TARGET$', '$PORT$', '$MODE$'] as const;
const SHELL_OPERATORS = new Set(['|', '&', ';', '<', '>', '`', '(', ')']);

/**
 * Programs that run whatever text they are given (shells, interpreters, and launchers that
 * start another program): naming one of these turns a template into arbitrary code.
 */
const CODE_RUNNERS =
  /^(?:sh|bash|rbash|dash|ash|ksh|mksh|pdksh|zsh|csh|tcsh|fish|yash|busybox|toybox|env|nice|nohup|timeout|setsid|stdbuf|xargs|sudo|su|doas|pkexec|runuser|setpriv|chroot|nsenter|unshare|systemd-run|script|watch|flock|perl[\d.]*|python[\d.]*|ruby[\d.]*|node|nodejs|php[\d.]*|lua[\d.]*|tclsh[\d.]*|wish|expect|awk|gawk|mawk|nawk|sed|find|vi|vim|ex|ed|gdb|socat|nc|ncat|netcat|openssl|osascript|powershell|pwsh|cmd|wscript|cscript|mshta)$/i;

export interface TemplateOptions {
  /**
   * Accept a program that runs code of its own (a shell, an interpreter). Only root's own
   * config file may; a template that arrives over the control channel may not.
   */
  readonly allowCodeRunner?: boolean;
}

/** The last path component of a program, lower-cased, without a Windows .exe. */
function programName(program: string): string {
  const name = program.split(/[\\/]/).pop() ?? program;
  return name.replace(/\.exe$/i, '');
}

/** True when the template's program runs code of its own (see CODE_RUNNERS). */
export function runsArbitraryCode(template: CommandTemplate): boolean {
  return CODE_RUNNERS.test(programName(template.argv[0]));
}

/** Splits a template into words the way a user reading it as a shell line would expect. */
export function parseCommandTemplate(raw: string, options: TemplateOptions = {}): TemplateResult {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i] as string;
    if (quote !== null) {
      if (ch === quote) quote = null;
      else if (SHELL_OPERATORS.has(ch) || (ch === '$' && !PLACEHOLDERS.some((p) => raw.startsWith(p, i)))) {
        return fail(`uses the shell character '${ch}' inside quotes; commands run without a shell, so put pipelines or redirections in a script and name the script here`);
      } else if (ch === '$') {
        const placeholder = PLACEHOLDERS.find((p) => raw.startsWith(p, i)) as string;
        word += placeholder;
        i += placeholder.length - 1;
      } else word += ch;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
      continue;
    }
    if (ch === '\\') {
      const next = raw[i + 1];
      if (next === undefined) return fail('ends with a lone backslash');
      word += next;
      inWord = true;
      i++;
      continue;
    }
    if (ch === ' ' || ch === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    if (SHELL_OPERATORS.has(ch)) {
      return fail(`uses the shell operator '${ch}'; commands run without a shell, so put pipelines or redirections in a script and name the script here`);
    }
    if (ch === '$') {
      const placeholder = PLACEHOLDERS.find((p) => raw.startsWith(p, i));
      if (placeholder === undefined) {
        return fail(`uses '$' outside $TARGET$, $PORT$ or $MODE$; shell variables are not expanded because commands run without a shell`);
      }
      word += placeholder;
      inWord = true;
      i += placeholder.length - 1;
      continue;
    }
    word += ch;
    inWord = true;
  }
  if (quote !== null) return fail(`has an unclosed ${quote} quote`);
  if (inWord) words.push(word);
  const [program, ...args] = words;
  if (program === undefined || program === '') return fail('is empty');
  if (PLACEHOLDERS.some((p) => program.includes(p))) return fail('must start with a program, not a placeholder');
  const template: CommandTemplate = { raw, argv: [program, ...args] };
  if (options.allowCodeRunner !== true && runsArbitraryCode(template)) {
    return fail(`runs ${programName(program)}, which executes code of its own; only root's config file may name a shell or interpreter here (name a script of your own instead)`);
  }
  return { ok: true, template };
}

export function templateUses(template: CommandTemplate, placeholder: (typeof PLACEHOLDERS)[number]): boolean {
  return template.argv.some((word) => word.includes(placeholder));
}

/** Substitutes the variables into every word; the word count never changes. */
export function renderCommand(template: CommandTemplate, vars: CommandVariables): [string, ...string[]] {
  const [program, ...args] = template.argv;
  return [program, ...args.map((word) => substitute(word, vars))];
}

/** Substitutes into a single line of text (used for KILL_HOSTS_DENY). */
export function substitute(text: string, vars: CommandVariables): string {
  return text.split('$TARGET$').join(vars.target).split('$PORT$').join(String(vars.port)).split('$MODE$').join(vars.mode);
}

function fail(message: string): TemplateResult {
  return { ok: false, message };
}
