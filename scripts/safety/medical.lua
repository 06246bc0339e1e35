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
  "influenza", "migraine", "insomnia", "hepatitis", "stroke" }
return {
  category = "medical",
  rules = {
    { id = "medical.cure_claim", all = { { "cure", "cures", "cured", "heal", "healed", "reverse",
      "reversing", "shrink", "shrinks", "treat", "treats", "treating", "replace", "replaces",
      "repair", "repairs", "diagnose", "diagnoses", "kill any", "get rid of", "eliminate",
      "does the same job", "handle your", "better than", "faster than", "cause", "causes" },
      DISEASE }, within = 6, unless = { "screening", "tested", "trials", "salt cured" },
      unless_within = 6, detail = "a claim to cure or treat a disease" },
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
