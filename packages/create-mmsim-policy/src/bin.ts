#!/usr/bin/env node
import { createPolicy } from './cli.js';

process.exitCode = await createPolicy(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
