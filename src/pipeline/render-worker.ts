// The entry of a render worker thread (RenderPool): renders each job it is sent and answers with
// the target or the error's code and message. Messages of a render name fields and keys, never
// a value; an error of any other kind is reported by its class name alone.
import { parentPort, workerData } from 'node:worker_threads';
import { FerryError } from '../errors.ts';
import { useBcryptSaltKey } from '../template/index.ts';
import { type PackedRenderJob, packTarget, runRenderJob, unpackJob } from './render-job.ts';
import { writeProgress } from './render-progress.ts';

export interface RenderRequest {
  id: number;
  job: PackedRenderJob;
}

export type RenderAnswer =
  | { id: number; target: ReturnType<typeof packTarget>['message'] }
  | { id: number; error: { code: FerryError['code']; message: string } };

const { progress, bcryptKey } = workerData as { progress: SharedArrayBuffer; bcryptKey: Uint8Array };
// The parent's key: htpasswd and bcrypt write the same hash in every thread of the process.
useBcryptSaltKey(bcryptKey);

parentPort?.on('message', ({ id, job }: RenderRequest) => {
  let answer: RenderAnswer;
  let transfer: ArrayBuffer[] = [];
  try {
    writeProgress(progress, '');
    const packed = packTarget(runRenderJob(unpackJob(job), (where) => writeProgress(progress, where)));
    answer = { id, target: packed.message };
    transfer = packed.transfer;
  } catch (err) {
    answer =
      err instanceof FerryError
        ? { id, error: { code: err.code, message: err.message } }
        : {
            id,
            error: { code: 'Render', message: `the render failed unexpectedly (${(err as Error)?.name ?? 'error'})` },
          };
  }
  parentPort?.postMessage(answer, transfer);
});
parentPort?.postMessage('ready');
