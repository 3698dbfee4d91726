/** A test for names against patterns in which `*` stands for any run of characters; whole-name, case-insensitive. */
export function patternMatcher(patterns: readonly string[]): (text: string) => boolean {
  if (patterns.length === 0) return () => false;
  // One expression for all the patterns: a name is tested once, not once per pattern.
  const expression = new RegExp(`^(?:${patterns.map((pattern) => pattern.split('*').map(escapeRegExp).join('.*')).join('|')})$`, 'i');
  return (text) => expression.test(text);
}

export function matchesPattern(pattern: string, text: string): boolean {
  return patternMatcher([pattern])(text);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
