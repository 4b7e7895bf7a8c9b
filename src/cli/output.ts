/** Structured output (-o json|yaml) of every verb: indented JSON, or YAML imported only when asked for. */
export async function formatDocument(doc: unknown, output: 'json' | 'yaml'): Promise<string> {
  if (output === 'json') return `${JSON.stringify(doc, null, 2)}\n`;
  const { default: YAML } = await import('yaml');
  return YAML.stringify(doc, { lineWidth: 0 });
}
