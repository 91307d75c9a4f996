import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dropResponseField } from './exchange.js';

const HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'server'];

test('the response fields never forwarded are recognised in any case, Connection apart, and nothing else is', () => {
  for (const name of HOP) {
    const want = name === 'connection' ? 2 : 1;
    const upper = name.toUpperCase();
    const mixed = [...name].map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c)).join('');
    for (const n of [name, upper, mixed]) assert.equal(dropResponseField(n), want, n);
    // every one-character change of the name, at every position, is another field
    for (let i = 0; i < name.length; i++) {
      for (const c of ['x', '-', '0', '_']) {
        const other = name.slice(0, i) + c + name.slice(i + 1);
        if (!HOP.includes(other)) assert.equal(dropResponseField(other), 0, other);
      }
    }
    assert.equal(dropResponseField(`${name}s`), 0);
    assert.equal(dropResponseField(name.slice(1)), 0);
  }
  for (const n of ['content-type', 'content-length', 'set-cookie', 'date', 'x-upgrade', 'tes', 'Servers', '']) assert.equal(dropResponseField(n), 0, n);
});
