-- Medical claims: cures, treatments, advice to stop medicine (category "medical", reject).
-- Sources, in our own words: FTC guidance on health claims (claims need competent and reliable
-- scientific evidence; "cures", "reverses" and "treats" a disease are claims), Llama Guard 3 S6
-- (specialised advice), GARM "spam or harmful content" (misleading health claims). Written for
-- this project.
local DISEASE = { "diabetes", "cancer", "tumor", "tumors", "tumour", "tumours", "autism",
  "arthritis", "asthma", "depression", "anxiety", "infection", "infections", "heart valve",
  "blood pressure", "alzheimer", "dementia", "covid", "hiv", "disease", "illness",
  "blood sugar", "antibiotics", "chemo", "chemotherapy", "insulin", "antidepressants",
  "inhaler", "medication", "vaccines", "acne", "eczema", "adhd", "obesity", "cholesterol", "flu",
  "influenza", "migraine", "insomnia", "hepatitis", "stroke", "cancer cells", "tumour cells",
  "lupus", "psoriasis", "parkinson", "epilepsy", "kidney stones", "gallstones", "ulcers",
  "fibroids", "cysts", "herpes", "lyme", "multiple sclerosis", "thyroid", "leukemia",
  "leukaemia", "lymphoma", "osteoporosis", "gout", "crohn", "celiac", "coeliac",
  "parasites", "candida", "virus", "viruses", "fungus", "plaque in your arteries" }
-- The diseases alone (DISEASE also names treatments: "replaces insulin").
local TREATMENTS = { antibiotics = true, chemo = true, chemotherapy = true, insulin = true,
  antidepressants = true, inhaler = true, medication = true, vaccines = true,
  ["blood pressure"] = true, ["blood sugar"] = true, cholesterol = true }
local ILLNESS = {}
for _, d in ipairs(DISEASE) do
  if not TREATMENTS[d] then ILLNESS[#ILLNESS + 1] = d end
end
return {
  category = "medical",
  rules = {
    { id = "medical.cure_claim", all = { { "cure", "cures", "cured", "heal", "healed", "reverse",
      "reversing", "shrink", "shrinks", "treat", "treats", "treating", "replace", "replaces",
      "repair", "repairs", "diagnose", "diagnoses", "kill any", "get rid of", "eliminate",
      "does the same job", "handle your", "better than", "faster than", "cause", "causes" },
      DISEASE }, within = 6, unless = { "screening", "tested", "trials", "salt cured" },
      unless_within = 6, detail = "a claim to cure or treat a disease" },
    -- other verbs of a disease claim, verb first: "melts away cancer cells", "dissolves
    -- tumors", "wipes out diabetes" (news such as "the flu kills thousands" has them after)
    { id = "medical.destroy_claim", all = { { "melt", "melts away", "destroy", "kill",
      "wipe out", "wipes out", "flush", "flush out", "dissolve", "eliminate", "erase",
      "eradicate", "starve", "zap", "obliterate", "annihilate", "neutralise", "neutralize",
      "banish", "undo", "purge", "burn away", "clear up", "clears up", "fight off",
      "knock out" }, ILLNESS },
      within = 4, ordered = true,
      unless = { "screening", "tested", "trials", "study", "studies", "researchers",
        "scientists", "chemotherapy", "radiotherapy", "doctors", "surgeons", "vaccine",
        "jab", "jabs", "fundraiser", "charity", "survivor", "awareness", "soap", "germs",
        "hand washing" }, unless_within = 8,
      detail = "a claim to destroy or cure a disease" },
    -- "the virus can't touch you", "you'll never get sick again"
    { id = "medical.immunity_claim", all = { { "virus", "covid", "flu", "cancer", "disease",
      "germs", "infection", "cold", "illness", "sick", "sickness" }, { "can't touch you",
      "cant touch you", "won't touch you", "never get sick", "never get ill", "immune to",
      "bulletproof", "can't get you", "cant get you", "never catch", "no need for a vaccine",
      "100 percent protection", "total protection" } }, within = 10,
      unless = { "myth", "false", "no such thing" }, unless_within = 8,
      detail = "a claim of immunity" },
    -- swallowing household chemicals as a remedy (also dangerous, safety/dangerous)
    { id = "medical.chemical_remedy", all = { { "bleach", "chlorine dioxide",
      "hydrogen peroxide", "turpentine", "kerosene", "borax", "household chemical",
      "household chemicals", "industrial bleach", "disinfectant", "mms" }, { "cure", "heal",
      "remedy", "treat", "detox", "cleanse", "parasite", "virus", "cold", "flu", "infection",
      "autism", "cancer", "immune", "healthy", "medicine", "daily", "drink", "sip", "gargle",
      "swallow" } }, within = 10,
      unless = { "never drink", "do not drink", "don't drink", "poison control", "keep away",
        "out of reach" }, unless_within = 10,
      detail = "a chemical sold as a remedy" },
    { id = "medical.stop_treatment", all = { { "stop taking", "skip", "throw away", "binned",
      "bin", "ditch", "quit", "no need", "do not need", "don't need", "why pay for",
      "no pills", "no doctor", "skip the doctor" }, { "insulin", "pills", "medication", "meds",
      "antidepressants", "inhaler", "chemo", "doctor", "therapy", "vaccine", "vaccines",
      "required", "needed" } }, within = 5,
      unless = { "ice bath", "who should skip" }, unless_within = 6,
      detail = "advice to stop or skip treatment" },
    { id = "medical.words", terms = { "colloidal silver", "miracle cure", "mms", "no doctor needed",
      "skip the doctor" } },
  },
}
