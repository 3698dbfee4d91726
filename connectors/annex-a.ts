/**
 * ISO/IEC 27001:2022 Annex A control ids, for telling a register's reference to a control from a typo or a 2013 id:
 * themes 5 (organizational, 37 controls), 6 (people, 8), 7 (physical, 14) and 8 (technological, 34).
 */
const CONTROLS_PER_THEME: Readonly<Record<string, number>> = { '5': 37, '6': 8, '7': 14, '8': 34 };

const ANNEX_A_ID = /^A\.([5-8])\.(\d{1,2})$/;

/** `a.8.13` and ` A.8.13 ` are `A.8.13`; anything else is returned trimmed. */
export function normalizeControlId(text: string): string {
  const trimmed = text.trim();
  return /^a\./.test(trimmed) ? `A${trimmed.slice(1)}` : trimmed;
}

export function isAnnexAControl(id: string): boolean {
  const match = ANNEX_A_ID.exec(id);
  if (match === null) return false;
  const number = Number(match[2]);
  return number >= 1 && number <= CONTROLS_PER_THEME[match[1]!]!;
}
