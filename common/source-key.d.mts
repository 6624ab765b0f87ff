export function sourceKey(root: string, dirs: string[], alsoFiles?: string[]): string;
