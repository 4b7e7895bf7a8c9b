/**
 * Entry point: real process I/O → src/cli → exit code. The only place that touches `process`.
 */
import fs from 'node:fs';
import { main } from '../src/cli/main.js';

function write(stream: NodeJS.WriteStream, fd: number): (text: string) => void {
  // synchronous writes: output is complete even when the process exits right after
  return (text) => {
    try {
      fs.writeSync(fd, text);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EPIPE') return; // `| head` closed the pipe
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') stream.write(text);
      else throw e;
    }
  };
}

void main(process.argv.slice(2), {
  stdout: write(process.stdout, 1),
  stderr: write(process.stderr, 2),
  isTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
  env: process.env,
  columns: process.stdout.columns,
  stdin: () => fs.readFileSync(0),
  signals: {
    // log-level subscribes while Envoy loggers are changed, so Ctrl-C and SIGTERM restore them
    subscribe(handler) {
      const onInt = (): void => handler('SIGINT');
      const onTerm = (): void => handler('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
      return () => {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
      };
    },
  },
}).then((code) => {
  process.exitCode = code;
});
