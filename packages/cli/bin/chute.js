#!/usr/bin/env node
// The `chute` launcher. Plain JavaScript on purpose: it turns on Node's compile cache before any
// TypeScript is loaded, so a warm start reuses the stripped and compiled modules instead of
// loading the type stripper (about 25 MiB of resident memory, and most of the start-up time).
import module from 'node:module';

module.enableCompileCache?.();
await import('../src/main.ts');
