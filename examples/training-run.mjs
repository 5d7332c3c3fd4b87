#!/usr/bin/env node
// Record a training run around a training loop: what it trains on before it starts, its metrics after.
// The run record (.dvs/runs/<id>.yaml) names the exact dataset version, the code commit and the
// parameters; commit it, and `dvs run compare` tells two runs apart.
//
//   node examples/training-run.mjs <repo> <run id> <tracked dataset (a CSV file)>
import { read, runs, DvsError } from 'dvs';

const [repo = '.', id = 'run-1', dataset = 'data/train.csv'] = process.argv.slice(2);
const params = { lr: 0.1, epochs: 3 };

try {
  const started = await runs.start(id, { cwd: repo, model: 'tiny-linear', datasets: [dataset], params });
  console.log(`started ${started.run.id} (${started.file}), code at ${started.run.code.commit?.slice(0, 10)}`);

  // A toy model: fit y = w·x on the dataset's rows (x,y), by gradient descent.
  const rows = (await read(dataset, { cwd: repo }))
    .toString('utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',').map(Number));
  let w = 0;
  let loss = 0;
  for (let epoch = 1; epoch <= params.epochs; epoch++) {
    let grad = 0;
    loss = 0;
    for (const [x, y] of rows) {
      grad += 2 * (w * x - y) * x;
      loss += (w * x - y) ** 2;
    }
    w -= (params.lr * grad) / rows.length;
    loss /= rows.length;
    console.log(`epoch ${epoch}: loss ${loss.toFixed(4)}`);
  }

  const finished = await runs.finish(id, { cwd: repo, metrics: { loss: Number(loss.toFixed(6)), weight: Number(w.toFixed(6)) } });
  console.log(`finished ${finished.run.id} in ${finished.run.duration} s: ${JSON.stringify(finished.run.metrics)}`);
} catch (err) {
  if (!(err instanceof DvsError)) throw err;
  console.error(`dvs: error: ${err.message}${err.hint ? `\n  hint: ${err.hint}` : ''}`);
  process.exitCode = err.exitCode;
}
