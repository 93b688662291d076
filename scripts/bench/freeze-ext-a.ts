#!/usr/bin/env bun
// Bench extension (see tiny-extension.ts); a second file only for a second registration name.
import "./tiny-extension.ts";
