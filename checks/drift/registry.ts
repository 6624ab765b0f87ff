import { composeName } from './rules/compose-name.ts';
import { envVar } from './rules/env-var.ts';
import { errorText, stepName } from './rules/quoted-text.ts';
import { exemption } from './rules/exemption.ts';
import { filePath } from './rules/file-path.ts';
import { freshness } from './rules/freshness.ts';
import { makeTarget } from './rules/make-target.ts';
import { replay } from './rules/replay.ts';
import { scriptFlag } from './rules/script-flag.ts';
import { symbol } from './rules/symbol.ts';
import type { DriftRule } from './types.ts';

/** Every drift rule `runbook check` runs. A new rule is a file in `rules/` and a line here. */
export const driftRules: readonly DriftRule[] = [freshness, filePath, symbol, envVar, scriptFlag, composeName, makeTarget, errorText, stepName, exemption, replay];
