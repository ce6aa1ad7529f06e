// The cluster's bucket (and its CORS rule), made once before the instances start:
//   node scripts/cluster-bucket.ts chute.config.json
import { loadConfigFile } from '../packages/cli/src/config-file.ts';
import { prepareBucket } from '../packages/gateway/src/index.ts';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: cluster-bucket.ts CONFIG');
const config = await loadConfigFile(file);
const { created } = await prepareBucket(config.storage, { corsOrigins: ['*'] });
console.error(`[cluster-bucket] ${config.storage.bucket} ${created ? 'created' : 'already there'}`);
