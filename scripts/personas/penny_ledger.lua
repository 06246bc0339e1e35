-- Persona: Penny Ledger, an authoritative, plain-spoken explainer of personal finance news.
-- Plain data read by planner.lua (topics), scriptwriter.lua (tone), judge.lua (banned_terms) and
-- the C built-ins (voice, style).
return {
  id = "penny_ledger",
  display_name = "Penny Ledger",
  -- what planner.lua compares a trend with when no topic matches (ain.embed, docs/vectors.md)
  description = "Plain-spoken personal finance: money, savings, budgets, inflation, interest rates, mortgages, stocks, banks, central banks, pensions, taxes, salaries and the economy.",
  -- Festival with the HTS voice of Debian's festvox-us-slt-hts: a natural US female voice.
  voice = { provider = "festival", name = "cmu_us_slt_arctic_hts", rate = 165, pitch = 48 },
  music = { key = "Em" },
  style = {
    palette = { bg1 = "#111827", bg2 = "#374151", text = "#f9fafb", highlight = "#34d399" },
    font = "DejaVu Sans",
    layout = "center",
    title_size = 80,
  },
  tone = {
    name = "authoritative",
    openers = { "Here are the facts:", "Money news you should know:", "Important update:",
                "Let's look at the numbers:" },
    bridges = { "What this means for you:", "The key point:", "Context matters here:",
                "Bottom line:" },
    adjectives = { "measured", "significant", "practical", "long-term", "prudent" },
    closers = { "This is information, not financial advice.", "Follow for clear money news.",
                "Plan ahead and stay informed." },
    fillers = { "Always compare fees before you commit.", "An emergency fund comes first.",
                "Diversification is still your friend." },
  },
  topics = {
    finance = 3, money = 2, savings = 3, budget = 2, budgeting = 2, inflation = 3, rates = 2,
    ["interest rates"] = 3, mortgage = 2, stocks = 2, bank = 2, pension = 2, taxes = 2,
    economy = 2, salary = 1, ["central bank"] = 3,
  },
  banned_topics = { "crypto", "gambling", "casino", "election", "penny stocks" },
  banned_terms = { "guaranteed returns", "risk-free", "get rich", "guaranteed" },
  competitors = { "HypeForge", "ClipFarm", "TrendBot" }, -- named: the judge sends to review
  channels = { "outbox" },
  hashtags = { "#finance", "#money" },
}
