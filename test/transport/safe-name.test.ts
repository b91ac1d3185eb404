import { mkdtemp, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SynackError } from '../../src/errors.js';
import { nextFreeName, safeBaseName, safeRelativePath } from '../../src/transport/safe-name.js';

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof SynackError ? error.code : 'not a SynackError';
  }
  return undefined;
}

describe('safe base name', () => {
  it.each([
    ['a.txt', 'a.txt'],
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\win.ini', 'win.ini'],
    ['C:\\x.txt', 'x.txt'],
    ['C:x.txt', 'x.txt'],
    ['\\\\server\\share\\doc.pdf', 'doc.pdf'],
    ['/abs', 'abs'],
    ['a\u0000b', 'ab'],
    ['evil\u202Etxt.exe', 'eviltxt.exe'],
    ['tab\there\r\n.txt', 'tabhere.txt'],
    ['.bashrc', '.bashrc'],
    ['name.txt. . ', 'name.txt'],
    ['notes.txt:hidden', 'notes.txt_hidden'],
    ['CON', '_CON'],
    ['nul.txt', '_nul.txt'],
    ['console.txt', 'console.txt'],
    ['报告.docx', '报告.docx'],
    ['😀.png', '😀.png'],
  ])('keeps %j as %j', (input, expected) => {
    expect(safeBaseName(input)).toBe(expected);
  });

  it.each(['', '.', '..', '...', ' ', 'dir/', 'a/..', '..\\', 'C:', '\u0000', '.\u0000.', '/'])(
    'refuses %j with E_UNSAFE_NAME',
    (input) => {
      expect(codeOf(() => safeBaseName(input))).toBe('E_UNSAFE_NAME');
    },
  );

  it('cuts a very long name to 255 UTF-8 bytes, keeping the extension', () => {
    const name = safeBaseName(`${'x'.repeat(1000)}.txt`);
    expect(name).toBe(`${'x'.repeat(251)}.txt`);
    expect(bytes(name)).toBe(255);
  });

  it('cuts long non-ASCII names on whole characters', () => {
    const chinese = safeBaseName(`${'报'.repeat(200)}.pdf`);
    expect(bytes(chinese)).toBeLessThanOrEqual(255);
    expect(chinese).toBe(`${'报'.repeat(83)}.pdf`);
    const emoji = safeBaseName(`${'👨‍👩‍👧'.repeat(30)}.jpg`);
    expect(bytes(emoji)).toBeLessThanOrEqual(255);
    expect(emoji).toBe(`${'👨‍👩‍👧'.repeat(13)}.jpg`);
    expect(emoji).not.toContain('\ufffd');
  });

  it('cuts a long name without an extension', () => {
    expect(safeBaseName('y'.repeat(300))).toBe('y'.repeat(255));
    expect(safeBaseName(`${'z'.repeat(300)}.this-is-not-an-extension-at-all`)).toHaveLength(255);
  });
});

describe('safe relative path', () => {
  it.each([
    ['a.txt', 'a.txt'],
    ['photos/2024/beach.jpg', 'photos/2024/beach.jpg'],
    ['photos\\2024\\beach.jpg', 'photos/2024/beach.jpg'],
    ['./a//b/./c.txt', 'a/b/c.txt'],
    ['dir/', 'dir'],
    ['.git/config', '.git/config'],
    ['a/CON/b\u0001.txt', 'a/_CON/b.txt'],
  ])('keeps %j as %j', (input, expected) => {
    expect(safeRelativePath(input)).toBe(expected);
  });

  it.each([
    '../x',
    'a/../../etc/passwd',
    '..\\..\\win.ini',
    '/etc/passwd',
    '\\\\server\\share\\x',
    'C:\\x.txt',
    'c:x.txt',
    'a\u0000b',
    '..',
    '.',
    '',
    './/',
    'a/.../b',
  ])('refuses %j with E_UNSAFE_NAME', (input) => {
    expect(codeOf(() => safeRelativePath(input))).toBe('E_UNSAFE_NAME');
  });

  it('limits each component to 255 bytes', () => {
    const path = safeRelativePath(`${'d'.repeat(300)}/${'f'.repeat(300)}.txt`);
    const [dir, file] = path.split('/');
    expect(dir).toBe('d'.repeat(255));
    expect(file).toBe(`${'f'.repeat(251)}.txt`);
  });
});

describe('next free name', () => {
  let dir: string;
  const exists = (p: string) => access(p).then(() => true, () => false);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'synack-safe-name-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the name when nothing has it yet', async () => {
    expect(await nextFreeName(dir, 'report.pdf', exists)).toBe('report.pdf');
  });

  it('numbers the name like browsers do', async () => {
    await writeFile(join(dir, 'report.pdf'), '');
    expect(await nextFreeName(dir, 'report.pdf', exists)).toBe('report (1).pdf');
    await writeFile(join(dir, 'report (1).pdf'), '');
    await writeFile(join(dir, 'report (2).pdf'), '');
    expect(await nextFreeName(dir, 'report.pdf', exists)).toBe('report (3).pdf');
  });

  it('puts the number before a compound extension, and after a dot file or bare name', async () => {
    for (const name of ['backup.tar.gz', '.bashrc', 'README']) await writeFile(join(dir, name), '');
    expect(await nextFreeName(dir, 'backup.tar.gz', exists)).toBe('backup (1).tar.gz');
    expect(await nextFreeName(dir, '.bashrc', exists)).toBe('.bashrc (1)');
    expect(await nextFreeName(dir, 'README', exists)).toBe('README (1)');
  });

  it('accepts a synchronous check and stays within 255 bytes', async () => {
    const long = `${'x'.repeat(251)}.txt`;
    const taken = new Set([join(dir, long)]);
    const name = await nextFreeName(dir, long, (p) => taken.has(p));
    expect(name).toBe(`${'x'.repeat(247)} (1).txt`);
    expect(bytes(name)).toBe(255);
  });

  it('gives up with E_UNSAFE_NAME when every name is taken', async () => {
    await expect(nextFreeName(dir, 'a.txt', () => true)).rejects.toMatchObject({ code: 'E_UNSAFE_NAME' });
  });
});
