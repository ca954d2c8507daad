// The kaopsd hash cache: used while the executable is the same file unchanged, recomputed as
// soon as it is written again (size, mtime or ctime move), bypassed with cache: false.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {appendFile, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {hashCachePath, kaopsdArtifact} from '../../src/plan/kaopsd-artifact.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')

test('the cached hash is used for an unchanged file and dropped when the file changes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kaops-artifact-'))
  try {
    const bin = join(dir, 'kaopsd')
    await writeFile(bin, 'v1 binary')
    assert.equal((await kaopsdArtifact(bin))?.sha256, sha('v1 binary'))
    const cache = JSON.parse(await readFile(hashCachePath(bin), 'utf8')) as {sha256: string}
    assert.equal(cache.sha256, sha('v1 binary'))

    // A marker hash in the cache proves the second call read it instead of the file.
    const marker = 'a'.repeat(64)
    await writeFile(hashCachePath(bin), JSON.stringify({...cache, sha256: marker}))
    assert.equal((await kaopsdArtifact(bin))?.sha256, marker)
    assert.equal((await kaopsdArtifact(bin, {cache: false}))?.sha256, sha('v1 binary'))

    await appendFile(bin, ' patched')
    assert.equal((await kaopsdArtifact(bin))?.sha256, sha('v1 binary patched'))

    // A cache that is not JSON, or names no valid hash, is ignored.
    await writeFile(hashCachePath(bin), 'garbage')
    assert.equal((await kaopsdArtifact(bin))?.sha256, sha('v1 binary patched'))

    assert.equal(await kaopsdArtifact(join(dir, 'missing')), undefined)
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
})
