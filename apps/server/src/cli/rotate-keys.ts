#!/usr/bin/env node
import { rotateKeysCommand } from "./rotate-keys-command.js";

process.exitCode = await rotateKeysCommand(process.argv.slice(2), process.env, {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
});
