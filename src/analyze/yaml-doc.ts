/** The YAML of a ready-to-apply fix: one document, lines never folded, with an optional leading comment. */
import YAML from 'yaml';

export function yamlDoc(doc: unknown, comment?: string): string {
  const text = YAML.stringify(doc, { lineWidth: 0 });
  return comment ? `# ${comment}\n${text}` : text;
}
