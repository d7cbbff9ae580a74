// The seeded random numbers of the differential tests' oracles (bench/*-oracle.mjs): a linear
// congruential generator, so that a seed always gives the same cases.
export function seeded(seedText) {
  let seed = Number(seedText) >>> 0 || 1;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const pick = (items) => items[Math.floor(random() * items.length)];
  const chance = (p) => random() < p;
  return { random, pick, chance };
}
