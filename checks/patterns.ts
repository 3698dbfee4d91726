/** A test for names against patterns in which `*` stands for any run of characters; whole-name, case-insensitive. */
export function patternMatcher(patterns: readonly string[]): (text: string) => boolean {
  const expressions = patterns.map((pattern) => new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`, 'i'));
  return (text) => expressions.some((expression) => expression.test(text));
}

export function matchesPattern(pattern: string, text: string): boolean {
  return patternMatcher([pattern])(text);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
