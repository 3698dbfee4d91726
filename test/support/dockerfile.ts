/**
 * A Dockerfile read into its build stages, for static checks of the image's shape. It covers the syntax our
 * Dockerfile uses (comments, line continuations, exec and shell forms, `FROM image AS name`), not heredocs or
 * parser directives beyond comments; an instruction it cannot read is an error naming its line.
 */
export interface DockerInstruction {
  keyword: string;
  /** The text after the keyword, continuations joined. */
  text: string;
  /** The exec form's words when the text is a JSON array, else undefined. */
  exec: string[] | undefined;
  line: number;
}

export interface DockerStage {
  image: string;
  name: string | undefined;
  instructions: DockerInstruction[];
}

export function parseDockerfile(source: string): DockerStage[] {
  const stages: DockerStage[] = [];
  const lines = source.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const start = index;
    let text = lines[index]!.trim();
    if (text === '' || text.startsWith('#')) continue;
    while (text.endsWith('\\') && index + 1 < lines.length) {
      const next = lines[++index]!.trim();
      text = `${text.slice(0, -1).trimEnd()} ${next.startsWith('#') ? '' : next}`.trimEnd();
    }
    const match = /^([A-Za-z]+)\s+([\s\S]*)$/.exec(text);
    if (!match) throw new Error(`Dockerfile line ${start + 1}: not an instruction: ${text.slice(0, 60)}`);
    const keyword = match[1]!.toUpperCase();
    const rest = match[2]!.trim();
    const instruction: DockerInstruction = { keyword, text: rest, exec: execForm(rest), line: start + 1 };
    if (keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!from) throw new Error(`Dockerfile line ${start + 1}: FROM ${rest}: expected an image and an optional AS name`);
      stages.push({ image: from[1]!, name: from[2], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile line ${start + 1}: ${keyword} before the first FROM`);
    stage.instructions.push(instruction);
  }
  return stages;
}

function execForm(text: string): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  try {
    const words: unknown = JSON.parse(text);
    return Array.isArray(words) && words.every((word) => typeof word === 'string') ? words : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `.dockerignore` keeps `file` (a path relative to the build context) out of the context: a pattern matches
 * the path or a folder above it, `*` within one path segment, `**` across segments, and a later `!pattern` lets a
 * path back in, as Docker reads the file.
 */
export function dockerIgnores(dockerignore: string, file: string): boolean {
  let ignored = false;
  for (const raw of dockerignore.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    const pattern = (negated ? line.slice(1) : line).replace(/^\/+|\/+$/g, '');
    const regex = new RegExp(`^${patternRegex(pattern)}(?:/.*)?$`);
    if (regex.test(file)) ignored = !negated;
  }
  return ignored;
}

/** `**` stands for any number of folders, none included; `*` and `?` stay within one path segment. */
function patternRegex(pattern: string): string {
  const segments = pattern.split('/');
  return segments
    .map((segment, index) => {
      const last = index === segments.length - 1;
      if (segment === '**') return last ? '.*' : '(?:.*/)?';
      const text = segment
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]');
      return last ? text : `${text}/`;
    })
    .join('');
}
