/** Entry point of `dist/worker.js`, the child process that trains, attaches packs and generates. */
import { EngineAdapter } from './engineAdapter';
import { runWorker } from './host';

runWorker(new EngineAdapter());
