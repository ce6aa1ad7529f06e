export { drainOnClose } from './drain.ts';
