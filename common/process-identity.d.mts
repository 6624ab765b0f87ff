export function processStat(pid: number): { state: string; started: string } | 'gone' | undefined;
export function processState(pid: number): string | undefined;
export function startTime(pid: number): string | undefined;
export function signalGroup(group: number, started: string | undefined, signal: NodeJS.Signals): boolean;
