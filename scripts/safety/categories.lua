-- Safety categories the judge screens for (docs/policies.md, "The judge").
-- Plain data read by scripts/agents/safety_match.lua. Each category has a title, a severity
-- (1 = lowest .. 4 = highest, shown to reviewers and used to order findings) and the action a
-- finding in it takes: "reject" (never published), "review" (a person decides) or "pass" (noted,
-- no effect). A rule in a lexicon may carry a stronger action than its category's.
-- `lexicons` lists the modules (safety/<name>) whose rules run; removing one turns it off.
--
-- Sources: the category split follows, in our own words, the OpenAI moderation categories
-- (harassment, hate, self-harm, sexual, sexual/minors, violence), the Llama Guard 3 hazard
-- taxonomy S1-S14 (violent crimes, non-violent crimes, sex crimes, child exploitation,
-- specialised advice, privacy, indiscriminate weapons, hate, self-harm, sexual content,
-- elections), the GARM brand-safety floor (death/injury, hate, obscenity, spam/harmful
-- claims) and the FTC guidance on health and financial claims. Written for this project.
return {
  categories = {
    pii = { title = "Personal data (contact details, addresses, ids)", severity = 4,
      action = "reject" },
    violence = { title = "Violence, threats and incitement", severity = 4, action = "reject" },
    tragedy = { title = "Death, disaster and injury news", severity = 2, action = "review" },
    hate = { title = "Hate, dehumanisation and harassment of groups", severity = 4,
      action = "reject" },
    sexual = { title = "Sexual content and non-consensual imagery", severity = 4,
      action = "reject" },
    self_harm = { title = "Suicide and self-harm", severity = 4, action = "reject" },
    dangerous = { title = "Dangerous acts, weapons and drugs", severity = 3, action = "reject" },
    medical = { title = "Medical claims (cures, treatments)", severity = 3, action = "reject" },
    financial = { title = "Financial claims and guarantees", severity = 3, action = "reject" },
    misinformation = { title = "Misinformation markers", severity = 2, action = "review" },
    brand = { title = "Brand rules (competitors, persona banned terms)", severity = 2,
      action = "review" },
    minors = { title = "Minors at risk", severity = 3, action = "review" },
  },
  lexicons = { "pii", "violence", "tragedy", "hate", "sexual", "self_harm", "dangerous",
    "medical", "financial", "misinformation", "minors", "idioms" },
}
