import { JournaledMap } from '../../../local/twins/common/journaled-map';

type Row = { id: string; amount: number; lines: number[] };

const filled = () => {
  const map = new JournaledMap<string, Row>();
  for (const id of ['a', 'b', 'c']) map.set(id, { id, amount: 1, lines: [1] });
  return map;
};

describe('JournaledMap', () => {
  it('rolls back a record changed in place after it was read', () => {
    const map = filled();
    map.begin();
    const row = map.get('b') as Row;
    row.amount = 99;
    row.lines.push(2);
    map.rollback();
    expect(map.get('b')).toEqual({ id: 'b', amount: 1, lines: [1] });
  });

  it('rolls back records changed while iterated, added and replaced', () => {
    const map = filled();
    map.begin();
    for (const row of map.values()) row.amount += 1;
    map.forEach((row) => {
      row.lines.push(7);
    });
    map.set('d', { id: 'd', amount: 4, lines: [] });
    map.set('a', { id: 'a', amount: 5, lines: [] });
    map.rollback();
    expect([...map.values()]).toEqual([
      { id: 'a', amount: 1, lines: [1] },
      { id: 'b', amount: 1, lines: [1] },
      { id: 'c', amount: 1, lines: [1] },
    ]);
  });

  it('restores deleted records in their order, and after a clear', () => {
    const map = filled();
    map.begin();
    map.delete('a');
    map.set('e', { id: 'e', amount: 1, lines: [] });
    map.rollback();
    expect([...map.keys()]).toEqual(['a', 'b', 'c']);
    map.begin();
    map.clear();
    map.set('z', { id: 'z', amount: 1, lines: [] });
    map.rollback();
    expect([...map.keys()]).toEqual(['a', 'b', 'c']);
  });

  it('keeps what a write did once it ends, and journals nothing outside a write', () => {
    const map = filled();
    map.begin();
    (map.get('c') as Row).amount = 3;
    map.delete('a');
    map.end();
    map.rollback();
    expect([...map.keys()]).toEqual(['b', 'c']);
    expect(map.get('c')?.amount).toBe(3);
    (map.get('b') as Row).amount = 8;
    map.rollback();
    expect(map.get('b')?.amount).toBe(8);
  });
});
