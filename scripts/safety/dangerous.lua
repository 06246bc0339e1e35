-- Dangerous acts, weapons, drugs and dangerous challenges (category "dangerous", reject).
-- Sources, in our own words: Llama Guard 3 S2 (non-violent crimes), S9 (indiscriminate
-- weapons), OpenAI usage policies (weapons, illicit drugs), GARM floor "illegal drugs",
-- "arms and ammunition" and dangerous challenges. Written for this project.
return {
  category = "dangerous",
  rules = {
    { id = "dangerous.words", terms = { "pipe bomb", "bomb making", "build a bomb",
      "make a bomb", "homemade bomb", "=meth", "blackout challenge", "tide pod",
      "tide pods", "ghost gun", "train surfing", "huffing", "snorting", "into a weapon",
      "hack into", "no questions asked", "plastic bag over your head", "underage drinking",
      "pass out", "eyes closed", "nitrous", "molotov", "untraceable gun" },
      detail = "dangerous act, weapon or drug" },
    { id = "dangerous.mix", all = { { "bleach" }, { "ammonia", "vinegar", "drink", "drops",
      "treat", "water" } }, within = 8, detail = "a toxic mixture or swallowing bleach" },
    { id = "dangerous.explode", all = { { "aerosol", "battery", "batteries" }, { "campfire",
      "fire", "explode", "puncture", "puncturing" } }, within = 6,
      unless = { "warning", "recycling", "stop charging" }, unless_within = 8 },
    { id = "dangerous.chug", all = { { "energy drinks", "pills", "painkillers" }, { "chug",
      "chugging", "back to back", "crushed", "snort" } }, within = 6 },
    { id = "dangerous.tracks", all = { { "sneak", "walk", "onto" }, { "train tracks",
      "railway tracks", "the tracks" } }, within = 6,
      unless = { "keep them away" }, unless_within = 6 },
    { id = "dangerous.child_alone", all = { { "year old", "toddler", "child", "kid" },
      { "deep fryer", "fryer", "stove", "power tools" } }, within = 6 },
  },
}
