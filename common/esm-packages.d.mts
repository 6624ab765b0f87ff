import type { Plugin } from 'esbuild';

export function esmPackagesPlugin(root: string, keepExternal?: string[]): Plugin;
