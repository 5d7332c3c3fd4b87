import { execFile } from 'node:child_process';
import { cpus, release, totalmem, type as osType } from 'node:os';
import type { RunHardware } from './record.js';

/** nvidia-smi's answer: one "name, memory" line per GPU. Null when the tool is not installed or fails. */
function listNvidiaGpus(): Promise<RunHardware['gpus']> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader'], { timeout: 5000, encoding: 'utf8' }, (err, stdout) => {
      if (err) return resolve(null);
      resolve(
        stdout
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
          .map((l) => {
            const [name, memory] = l.split(',').map((s) => s.trim());
            return { name, memory: memory ?? null };
          }),
      );
    });
  });
}

/** The machine a run starts on: CPU, memory, GPUs (when nvidia-smi exists), OS and Node versions. */
export async function describeHardware(): Promise<RunHardware> {
  const cpuList = cpus();
  return {
    platform: `${process.platform}-${process.arch}`,
    os: `${osType()} ${release()}`,
    cpu: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memory: totalmem(),
    gpus: await listNvidiaGpus(),
    node: process.version,
  };
}
