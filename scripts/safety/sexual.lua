-- Sexual content and non-consensual imagery (category "sexual", reject).
-- Sources, in our own words: OpenAI moderation "sexual" and "sexual/minors", Llama Guard 3 S3
-- (sex crimes: non-consensual imagery), S4 (child exploitation), S12 (sexual content), GARM
-- floor "adult and explicit sexual content". Written for this project.
return {
  category = "sexual",
  rules = {
    { id = "sexual.explicit", terms = { "nude", "nudes", "naked", "porn*", "sex tape",
      "sex video", "sexting", "onlyfans", "undress*", "boobs", "full frontal", "sexy", "xxx",
      "nsfw", "stripping live", "strip live", "explicit video", "explicit pics", "explicit sex",
      "explicit photos", "hidden camera", "secretly filmed", "upskirt", "bedroom video" },
      unless = { "colour", "color", "palette", "lipstick", "shade", "tone", "beige" },
      unless_within = 3, detail = "sexual or explicit content" },
    { id = "sexual.explicit_any", all = { { "explicit" }, { "video", "pics", "photo", "sex",
      "pic", "content" } }, within = 4 },
    { id = "sexual.voyeur", all = { { "shower", "changing room", "bedroom", "undressing" },
      { "filmed", "film", "camera", "video", "footage", "secretly" } }, within = 6 },
    { id = "sexual.stream", all = { { "strip", "stripping" }, { "live", "stream", "camera" } },
      within = 3 },
    { id = "sexual.minors", severity = 4, all = { { "schoolgirl", "schoolgirls", "underage",
      "teen", "teens", "child", "children", "kid", "kids", "minor", "minors", "preteen" },
      { "sexy", "bikini", "bikinis", "hot", "nude", "naked", "hottest", "pics", "lingerie" } },
      within = 6, detail = "sexualised minors" },
  },
}
