import type { SpawnOptions } from 'node:child_process';

export function isBash(shell: unknown): boolean;
export function bashArgs(script: string): string[];
export function shellSpawnArguments(command: string, args: readonly string[], options: SpawnOptions): [string, readonly string[], SpawnOptions];
