import type { ESLint, Rule } from 'eslint';

export const WORKFLOW_SAFE_FILES: string[];
export const importDirection: Rule.RuleModule;
declare const plugin: ESLint.Plugin;
export default plugin;
