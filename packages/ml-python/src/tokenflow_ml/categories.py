"""The default categories: what each means, with example prompts.

The embedding backend compares a prompt with each category's description and
examples; the NLI backend uses the descriptions as hypotheses. The examples
are anchors, not a test set: tests/data holds prompts that appear nowhere here.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class CategorySpec:
    description: str
    examples: tuple[str, ...]


DEFAULT_CATEGORIES: dict[str, CategorySpec] = {
    "reasoning": CategorySpec(
        "a problem that needs step-by-step logical or mathematical reasoning",
        (
            "If a train travels 150 miles at 60 mph, how long does the trip take? Show your work.",
            "Prove that the square root of 2 is irrational.",
            "Solve for x: 3x + 7 = 22, and explain each step.",
            "Three boxes are mislabeled; how many fruits must you pick to label them correctly?",
            "What is the probability of drawing two aces in a row from a deck?",
            "If all bloops are razzies and all razzies are lazzies, are all bloops lazzies?",
            "A farmer has 17 sheep and all but 9 run away. How many are left? Think it through.",
            "Calculate the compound interest on $1,000 at 5% per year for 3 years.",
            "Which weighs more, a kilogram of feathers or a kilogram of steel? Explain why.",
            "Find the next number in the sequence 2, 6, 12, 20, 30 and justify it.",
            "How many handshakes happen if 10 people each shake hands once with everyone?",
            "Is this valid: if it rains the ground is wet; the ground is wet; so it rained?",
        ),
    ),
    "code": CategorySpec(
        "writing, explaining, reviewing or debugging source code",
        (
            "Write a Python function that reverses a linked list.",
            "Why does this JavaScript throw 'undefined is not a function'?",
            "Refactor this SQL query so it uses a join instead of a subquery.",
            "Fix the TypeScript type error in this React component.",
            "Implement binary search in Java.",
            "What does this regular expression match: ^[a-z0-9_-]{3,16}$ ?",
            "My Docker container exits immediately; here is the Dockerfile, what is wrong?",
            "Write a unit test for this Go function that parses dates.",
            "Explain what a closure is in JavaScript with a code example.",
            "Convert this Python 2 script to Python 3.",
            "How do I read a CSV file into a pandas DataFrame and drop empty rows?",
            "Review my Rust code for memory safety issues and performance.",
            "Write a shell script that renames every .txt file in a folder.",
            "Write a SQL query that counts users per country.",
            "Write a program in C that prints the first 100 prime numbers.",
            "Set up a cron job that runs my Python script every hour.",
        ),
    ),
    "function-calling": CategorySpec(
        "a request to call a tool, API or function, or to fill in its arguments",
        (
            "Book a table for two at 7pm tomorrow using the reservation tool.",
            "Use the weather API to get the current temperature in Paris.",
            "Call get_user with id 42, then send that user a welcome email.",
            "Fill in the arguments of create_contact from this message as JSON.",
            "Schedule a meeting with Bob on Thursday at 3pm in my calendar.",
            "Turn off the living room lights and set the thermostat to 20 degrees.",
            "Search the product database for red sneakers under $50.",
            "Create a Jira ticket titled 'Login page crashes' with high priority.",
            "Send a Slack message to the #ops channel saying the deploy is done.",
            "Get the latest stock price of AAPL using the finance tool.",
            "Add milk and eggs to my shopping list.",
            "Set a reminder to call my dentist next Monday at 9am.",
        ),
    ),
    "text-to-text": CategorySpec(
        "transforming a given text: summarizing, translating, rewriting or correcting it",
        (
            "Summarize the following article in three bullet points.",
            "Translate this paragraph into French.",
            "Fix the grammar and spelling in this email.",
            "Rewrite this text in a more formal tone.",
            "Paraphrase the following sentence in simpler words.",
            "Extract all the dates and names mentioned in this text.",
            "Condense these meeting notes into a short summary.",
            "Translate 'where is the train station' into German.",
            "Turn this bulleted list into a flowing paragraph.",
            "Shorten this product description to under 50 words.",
            "Proofread the following cover letter.",
            "Convert this passage from passive voice to active voice.",
        ),
    ),
    "creative": CategorySpec(
        "imaginative writing such as stories, poems, song lyrics, jokes or brainstorming",
        (
            "Write a short poem about the ocean at night.",
            "Tell me a bedtime story about a brave little mouse.",
            "Come up with ten names for a cozy coffee shop.",
            "Write song lyrics about a summer road trip.",
            "Write a limerick about a cat who loves lasagna.",
            "Invent a new holiday and describe how people celebrate it.",
            "Write the opening paragraph of a mystery novel set in Venice.",
            "Tell me a joke about programmers.",
            "Brainstorm slogans for an eco-friendly water bottle.",
            "Write a dialogue between a dragon and a knight who become friends.",
            "Describe an alien planet with purple oceans in vivid detail.",
            "Write a sonnet about lost love.",
        ),
    ),
    "general": CategorySpec(
        "general knowledge questions, everyday advice and casual conversation",
        (
            "What is the capital of Australia?",
            "How often should I water my houseplants?",
            "Hi! How are you today?",
            "What are the health benefits of green tea?",
            "Who painted the Mona Lisa?",
            "What should I pack for a weekend trip to the mountains?",
            "Why is the sky blue?",
            "Can you recommend a good book to read on vacation?",
            "How long should I boil an egg for a soft yolk?",
            "What time zone is Tokyo in?",
            "Thanks for your help earlier!",
            "What's the difference between a virus and a bacterium?",
            "How many people live in Brazil?",
            "What language is spoken in Argentina?",
            "Who was the first president of the United States?",
            "How far is the Moon from Earth?",
        ),
    ),
}
