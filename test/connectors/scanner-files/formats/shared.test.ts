import { describe, expect, it } from 'vitest';
import { scannerName, severityOfScore } from '../../../../connectors/scanner-files/formats/shared.ts';

describe('severity and scanner names', () => {
  it.each([
    [10, 'critical'],
    [9, 'critical'],
    [8.9, 'high'],
    [7, 'high'],
    [6.9, 'medium'],
    [4, 'medium'],
    [3.9, 'low'],
    [0.1, 'low'],
    [0, 'info'],
    [-1, 'info'],
  ])('score %s is %s', (score, severity) => {
    expect(severityOfScore(score)).toBe(severity);
  });

  it.each([
    ['Semgrep OSS', 'semgrep'],
    ['Trivy', 'trivy'],
    ['GitHub CodeQL', 'codeql'],
    ['Grype', 'grype'],
    ['ESLint Security Plugin', 'eslint-security-plugin'],
    ['  ', 'unknown'],
  ])('tool %j is scanner %j', (tool, scanner) => {
    expect(scannerName(tool)).toBe(scanner);
  });
});
