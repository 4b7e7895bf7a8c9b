/**
 * Shell completion for `kubectl mesh-egress`, in the protocol kubectl (>= 1.26) speaks with a
 * plugin's `kubectl_complete-mesh_egress` executable: that executable runs
 * `kubectl-mesh_egress __complete WORD... CURRENT` (the words after the plugin name, the last one
 * being the word under completion, "" for a new word) and prints one candidate a line
 * ("candidate<TAB>description"), then `:<directive>`, cobra's ShellCompDirective
 * (kubectl: staging/src/k8s.io/kubectl/pkg/cmd/plugin/plugin_completion.go).
 *
 * Candidates come from the yargs command table itself (verbs, their flags, flag choices), read the
 * way yargs' own completion reads them (yargs/lib/completion.ts: the verb's builder is applied to a
 * reset instance). yargs' built-in `--get-yargs-completions` is not used directly: for a verb it
 * re-parses process.argv instead of answering the callback, and it prints no cobra directive.
 */
import type { Argv } from 'yargs';

/** cobra's ShellCompDirective bits */
export const DIRECTIVE = { DEFAULT: 0, ERROR: 1, NO_SPACE: 2, NO_FILE_COMP: 4, FILTER_FILE_EXT: 8, FILTER_DIRS: 16, KEEP_ORDER: 32 } as const;

/** Flags whose value is a file: the shell's own file completion answers them. */
const FILE_FLAGS = new Set(['config-dump', 'kubeconfig']);

interface YargsOptions {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
  boolean: string[];
  count: string[];
  array: string[];
  choices: Record<string, readonly unknown[]>;
  hiddenOptions: string[];
}

/** The parts of a yargs instance that yargs' completion uses (present in yargs 17-18; pinned by test/packaging/completion.test.ts). */
interface YargsInternals {
  getOptions(): YargsOptions;
  getGroups(): Record<string, string[]>;
  getInternalMethods(): {
    reset(): YargsInternals;
    getUsageInstance(): {
      getCommands(): [string, string | false, ...unknown[]][];
      getDescriptions(): Record<string, string | undefined>;
      getPositionalGroupName(): string;
    };
    getCommandInstance(): { getCommandHandlers(): Record<string, { builder?: unknown }> };
  };
}

interface FlagSpec {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly takesValue: boolean;
  /** an array flag may be given again */
  readonly repeatable: boolean;
  readonly choices: readonly string[];
  readonly description: string;
}

interface Table {
  readonly verbs: readonly { name: string; description: string }[];
  readonly flags: readonly FlagSpec[];
}

function flagsOf(y: YargsInternals): FlagSpec[] {
  const o = y.getOptions();
  const usage = y.getInternalMethods().getUsageInstance();
  const descriptions = usage.getDescriptions();
  const positional = new Set(y.getGroups()[usage.getPositionalGroupName()] ?? []);
  const aliasOf = new Set(Object.values(o.alias).flat());
  const out: FlagSpec[] = [];
  for (const name of Object.keys(o.key)) {
    if (positional.has(name) || o.hiddenOptions.includes(name) || aliasOf.has(name)) continue;
    out.push({
      name,
      aliases: o.alias[name] ?? [],
      takesValue: !o.boolean.includes(name) && !o.count.includes(name),
      repeatable: o.array.includes(name),
      choices: (o.choices[name] ?? []).map(String),
      description: (descriptions[name] ?? '').replace('__yargsString__:', '').replace(/\s+/g, ' ').trim(),
    });
  }
  return out;
}

function tableFor(parser: Argv, verb: string | undefined): Table {
  const y = parser as unknown as YargsInternals;
  const methods = y.getInternalMethods();
  const verbs = methods
    .getUsageInstance()
    .getCommands()
    .filter((c) => c[1] !== false)
    .map((c) => ({ name: c[0].split(/\s+/)[0]!, description: String(c[1]) }));
  const handler = verb !== undefined ? methods.getCommandInstance().getCommandHandlers()[verb] : undefined;
  if (handler && typeof handler.builder === 'function') {
    const reset = methods.reset();
    (handler.builder as (y: unknown, helpOrVersionSet: boolean) => unknown)(reset, true);
    return { verbs, flags: flagsOf(reset) };
  }
  return { verbs, flags: flagsOf(y) };
}

function flagByWord(flags: readonly FlagSpec[], word: string): FlagSpec | undefined {
  const name = word.replace(/^--?/, '');
  return flags.find((f) => f.name === name || f.aliases.includes(name));
}

function dashed(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}

function line(candidate: string, description: string): string {
  return description ? `${candidate}\t${description}` : candidate;
}

/** Completions for `words` (the last one is being completed), as cobra's __complete prints them. */
export function completions(parser: Argv, words: readonly string[]): { candidates: string[]; directive: number } {
  const current = words.length > 0 ? words[words.length - 1]! : '';
  const before = words.slice(0, -1);
  // the verb is the first word that is neither a flag nor a flag's value
  const top = tableFor(parser, undefined);
  let verb: string | undefined;
  for (let i = 0; i < before.length; i++) {
    const w = before[i]!;
    if (w === '--') break;
    if (w.startsWith('-')) {
      const f = flagByWord(top.flags, w);
      if (f?.takesValue && !w.includes('=')) i++;
      continue;
    }
    verb = w;
    break;
  }
  const table = verb !== undefined ? tableFor(parser, verb) : top;
  const noFiles = DIRECTIVE.NO_FILE_COMP;

  // the value of a flag: `--output <TAB>` or `--output=<TAB>`
  const prev = before[before.length - 1];
  const eq = current.startsWith('-') ? current.indexOf('=') : -1;
  const valueOf = eq > 0 ? flagByWord(table.flags, current.slice(0, eq)) : prev !== undefined && prev.startsWith('-') && !prev.includes('=') ? flagByWord(table.flags, prev) : undefined;
  if (valueOf?.takesValue) {
    const prefix = eq > 0 ? current.slice(0, eq + 1) : '';
    const typed = eq > 0 ? current.slice(eq + 1) : current;
    if (valueOf.choices.length > 0) return { candidates: valueOf.choices.filter((c) => c.startsWith(typed)).map((c) => prefix + c), directive: noFiles };
    return { candidates: [], directive: FILE_FLAGS.has(valueOf.name) ? DIRECTIVE.DEFAULT : noFiles };
  }

  // flags: on "-..." and, as yargs' own completion does, on an empty word after the verb
  if (current.startsWith('-') || (current === '' && verb !== undefined)) {
    const given = new Set(before.filter((w) => w.startsWith('-')).map((w) => flagByWord(table.flags, w.split('=')[0]!)?.name));
    const out: string[] = [];
    for (const f of table.flags) {
      if (given.has(f.name) && !f.repeatable) continue;
      for (const n of [f.name, ...f.aliases]) {
        const d = dashed(n);
        if (d.startsWith(current)) out.push(line(d, f.description));
      }
    }
    return { candidates: out, directive: noFiles };
  }
  if (verb === undefined) {
    return { candidates: table.verbs.filter((v) => v.name.startsWith(current)).map((v) => line(v.name, v.description)), directive: noFiles };
  }
  // a verb's positional being typed (DEST, ...): nothing to offer, and not a file
  return { candidates: [], directive: noFiles };
}

export function formatCompletions(r: { candidates: readonly string[]; directive: number }): string {
  return `${r.candidates.map((c) => `${c}\n`).join('')}:${r.directive}\n`;
}
