/** Formats zod issues as `field a[3].b: expected string` so an error names where the input was wrong. */
export function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[], limit = 5): string {
  const shown = issues.slice(0, limit).map((issue) => `field ${formatPath(issue.path)}: ${issue.message}`);
  const more = issues.length > limit ? `; and ${issues.length - limit} more` : '';
  return shown.join('; ') + more;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}
