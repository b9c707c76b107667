#!/usr/bin/env node
// Committed, executable entry point: npm links it before the TypeScript build has run.
import '../dist/bin.js';
