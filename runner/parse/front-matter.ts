import { isMap, isScalar, LineCounter, parseDocument, type Pair } from 'yaml';
import { diagnostic, type Diagnostic } from '../../common/diagnostics.ts';
import type { FrontMatter, Point, Span, TargetProfile } from '../model.ts';
import { parseDuration } from '../../common/duration.ts';
import { LIMITS } from './limits.ts';

const DEFAULT_REVIEW_DAYS = 90;

/** Where the YAML text sits in the document: its first line and the span of the whole `---` block. */
export interface YamlBlock {
  value: string;
  span: Span;
}

export function emptyFrontMatter(): FrontMatter {
  return { data: {}, keySpans: {}, targets: {}, reviewEveryDays: DEFAULT_REVIEW_DAYS };
}

/**
 * Reads the YAML front matter, keeping every key (unknown ones too) and the position of each, so that diagnostics
 * and `validate`'s stamping point at the right line. Malformed YAML becomes a positioned diagnostic, not a throw.
 */
export function parseFrontMatter(file: string, block: YamlBlock | undefined, messages: Diagnostic[]): FrontMatter {
  const result = emptyFrontMatter();
  if (!block) return result;
  result.span = block.span;
  const refuse = (reason: string) => {
    messages.push(diagnostic(`Malformed front matter: ${reason}`, { file, place: block.span, ruleId: 'front-matter-yaml' }));
    return result;
  };
  if (Buffer.byteLength(block.value, 'utf8') > LIMITS.frontMatterBytes) {
    return refuse(`${Buffer.byteLength(block.value, 'utf8')} bytes, expected at most ${LIMITS.frontMatterBytes}`);
  }
  const lineCounter = new LineCounter();
  let document: ReturnType<typeof parseDocument>;
  try {
    document = parseDocument(block.value, { lineCounter, prettyErrors: false, uniqueKeys: true });
  } catch (error) {
    // The YAML parser recurses per nesting level: a front matter of nested brackets exhausts the stack.
    return refuse(error instanceof RangeError ? 'nested too deeply' : String((error as Error)?.message ?? 'unreadable'));
  }
  // The YAML text starts on the line after the opening `---`.
  const firstLine = block.span.start.line + 1;
  const toPoint = (offset: number): Point => {
    const { line, col } = lineCounter.linePos(offset);
    return { line: firstLine + line - 1, column: col };
  };
  const toSpan = (range: readonly [number, number, ...number[]]): Span => ({
    start: toPoint(range[0]),
    end: toPoint(range[1]),
  });

  for (const error of document.errors) {
    messages.push(
      diagnostic(`Malformed front matter: ${error.message.split('\n')[0]}`, {
        file,
        place: toSpan(error.pos),
        ruleId: 'front-matter-yaml',
      }),
    );
  }
  if (document.errors.length > 0) return result;

  const contents = document.contents;
  if (contents === null) return result;
  if (!isMap(contents)) {
    messages.push(
      diagnostic('Unexpected front matter that is not a mapping, expected `key: value` lines', {
        file,
        place: block.span,
        ruleId: 'front-matter-yaml',
      }),
    );
    return result;
  }
  try {
    // An alias bomb (aliases of aliases) expands exponentially when read: the yaml package stops at this count.
    result.data = (document.toJS({ maxAliasCount: LIMITS.frontMatterAliases }) ?? {}) as Record<string, unknown>;
  } catch (error) {
    return refuse(
      error instanceof RangeError
        ? 'nested too deeply'
        : `${String((error as Error)?.message ?? 'unreadable').split('\n')[0]} (aliases are limited to ${LIMITS.frontMatterAliases})`,
    );
  }
  const pairs = contents.items as Pair[];
  for (const pair of pairs) {
    if (isScalar(pair.key) && pair.key.range) result.keySpans[String(pair.key.value)] = toSpan(pair.key.range);
  }

  const review = result.data['review-every'];
  if (review !== undefined) {
    const ms = typeof review === 'string' ? parseDuration(review) : undefined;
    if (ms === undefined || !String(review).endsWith('d')) {
      messages.push(
        diagnostic(`Unexpected review-every \`${String(review)}\`, expected days such as \`90d\``, {
          file,
          place: result.keySpans['review-every'],
          ruleId: 'front-matter-value',
        }),
      );
    } else {
      result.reviewEveryDays = ms / 86_400_000;
    }
  }

  const validated = result.data['last-validated'];
  if (validated !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(String(validated))) {
    messages.push(
      diagnostic(`Unexpected last-validated \`${String(validated)}\`, expected a date as YYYY-MM-DD`, {
        file,
        place: result.keySpans['last-validated'],
        ruleId: 'front-matter-value',
      }),
    );
  }

  const targets = result.data['targets'];
  if (targets !== undefined) {
    if (targets === null || typeof targets !== 'object' || Array.isArray(targets)) {
      messages.push(
        diagnostic('Unexpected `targets` that is not a mapping, expected named profiles', {
          file,
          place: result.keySpans['targets'],
          ruleId: 'front-matter-value',
        }),
      );
    } else {
      const targetsNode = contents.get('targets', true);
      for (const [name, value] of Object.entries(targets as Record<string, unknown>)) {
        const settings = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
        let span: Span = result.keySpans['targets'] ?? block.span;
        if (isMap(targetsNode)) {
          const pair = (targetsNode.items as Pair[]).find((item) => isScalar(item.key) && item.key.value === name);
          if (pair && isScalar(pair.key) && pair.key.range) span = toSpan(pair.key.range);
        }
        const profile: TargetProfile = { name, sandbox: settings['sandbox'] === true, settings, span };
        result.targets[name] = profile;
      }
    }
  }

  const defaultTarget = result.data['default-target'];
  if (defaultTarget !== undefined) {
    result.defaultTarget = String(defaultTarget);
    if (!(result.defaultTarget in result.targets)) {
      messages.push(
        diagnostic(
          `Unexpected default-target \`${result.defaultTarget}\`, expected one of: ${Object.keys(result.targets).join(', ') || '(no targets)'}`,
          { file, place: result.keySpans['default-target'], ruleId: 'front-matter-value' },
        ),
      );
    }
  }
  return result;
}
