/**
 * Jest's order, with the longest-running files first: the fleet test (210 tables on a moto server
 * of its own, several minutes) then runs beside all the others instead of after them. Without a
 * timing cache (a fresh clone), Jest would start it last, by its small file size.
 */
const Sequencer = require('@jest/test-sequencer').default;

const FIRST = [/fleet\.int\.test\.ts$/, /copies\.int\.test\.ts$/, /evidence-cost\.int\.test\.ts$/];
const rank = (path) => {
  const i = FIRST.findIndex((re) => re.test(path));
  return i < 0 ? FIRST.length : i;
};

class LongestFirst extends Sequencer {
  async sort(tests) {
    const sorted = await super.sort(tests);
    return [...sorted].sort((a, b) => rank(a.path) - rank(b.path));
  }
}

module.exports = LongestFirst;
