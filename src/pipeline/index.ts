// The one read path below both sinks: ExternalSecret + stores → rendered content. Reads only.
export {
  type Fetched,
  noTemplateSources,
  ReadPipeline,
  type ReadTiming,
  type Resolved,
  versionsRead,
} from './read-pipeline.ts';
export { ReadSide } from './read-side.ts';
export type { RenderPoolOptions } from './render-pool.ts';
