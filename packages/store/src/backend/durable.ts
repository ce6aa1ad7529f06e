import fsp from 'node:fs/promises';

/** Makes a directory's entries (a new name, a rename, an unlink) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes a new file and makes its bytes durable before resolving (its name needs fsyncDir). */
export async function writeDurable(file: string, data: string): Promise<void> {
  const fh = await fsp.open(file, 'wx');
  try {
    await fh.writeFile(data);
    await fh.datasync();
  } finally {
    await fh.close();
  }
}
