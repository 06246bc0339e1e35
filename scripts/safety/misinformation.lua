-- Misinformation markers (category "misinformation", review): conspiracy formulas, suppression
-- claims and well-known false claims. A marker sends the video to a person; it does not decide
-- what is true. Sources, in our own words: Llama Guard 3 S13 (elections) and the misinformation
-- sections of platform policies, GARM "misinformation" category. Written for this project.
return {
  category = "misinformation",
  rules = {
    { id = "misinformation.markers", terms = { "hoax", "chemtrails", "flat earth",
      "earth is flat", "don't want you to know", "dont want you to know", "doctors hate",
      "cover up", "covering up", "coverup", "they don't want", "lying to us", "sheeple",
      "control the banks", "control the media", "won't say", "wont say", "won't tell you",
      "share before they delete", "before they delete", "silenced", "crisis actors",
      "staged with actors", "not ai", "secret default", "=secretly", "hiding the real",
      "hiding the truth", "raise your iq", "withdraw everything", "the real cause",
      "they are hiding", "new world order", "plandemic", "microchip" },
      unless = { "fact check", "debunk", "myth" }, unless_within = 12,
      detail = "a misinformation marker" },
    { id = "misinformation.faked", all = { { "fake", "faked", "staged", "hoax" }, {
      "moon landing", "landing", "footage", "data", "flood", "pandemic", "election",
      "vaccine" } }, within = 6, unless = { "not", "fact check", "debunk" }, unless_within = 3 },
    { id = "misinformation.claims", all = { { "5g", "pyramid", "pyramids", "vaccine",
      "vaccines" }, { "virus", "viruses", "alien", "aliens", "power plant", "power plants",
      "autism", "microchip" } }, within = 8 },
  },
}
