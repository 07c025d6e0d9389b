"""English pack of the demo crawl (local-news register; written for this project)."""

from flows.sources.demo_content import LanguagePack, split

PACK = LanguagePack(
    code="en",
    subjects=split(
        "the city council|a small team of engineers|the regional hospital|our local library|the new government|"
        "a group of researchers|the football club|the school board|a family business|the transport authority|"
        "the national museum|a young architect|the energy company|the university|a volunteer group|the mayor|"
        "the local bakery|the weather service|a community garden project|the tourism office|"
        "an independent bookshop|the fire department|a popular restaurant|the water utility|"
        "the chamber of commerce|the police department|a startup from the region|the farmers' association|"
        "the public broadcaster|the housing cooperative|a retired teacher|the hospital director|"
        "the parents' association|a local historian|the youth orchestra|the cycling club|the health ministry|"
        "a software developer|the harbour authority|the festival committee"
    ),
    verbs=split(
        "has approved|is reviewing|presented|announced|published|criticised|has postponed|will discuss|"
        "is planning|rejected|supported|has launched|described|recently updated|has questioned|welcomed|"
        "is testing|introduced|has finished|will present|carefully examined|defended|has extended|completed|"
        "is preparing|promoted|quietly dropped|has funded|explained|has simplified|organised|reported on|"
        "is expanding|shared|has improved|evaluated|is considering|has changed|documented|celebrated"
    ),
    objects=split(
        "a new plan for the harbour|the annual budget|a study on air quality|the renovation of the old station|"
        "a proposal to reduce traffic|the results of the survey|a programme for young families|"
        "the opening hours of the pool|a new bus route|the design of the central square|"
        "a report about rising rents|the summer festival|a campaign against food waste|the new cycling lanes|"
        "an exhibition about local history|the plans for a wind farm|a guide for new residents|"
        "the rules for street parking|a training course for volunteers|the price of public transport|"
        "a project to plant more trees|the latest figures on tourism|a new app for booking appointments|"
        "the expansion of the primary school|a list of safety measures|the future of the market hall|"
        "a series of public lectures|the water supply in the north|a partnership with the university|"
        "the recycling scheme|a fund for small businesses|the timetable for the works|a debate on housing|"
        "the contract with the builder|a new health centre|the results of the election|"
        "an open day for families|the repairs on the bridge|a long report on climate risks|"
        "the final version of the strategy"
    ),
    adverbials=split(
        "in the spring|after a long debate|at the end of the year|in the city centre|"
        "during the summer holidays|for the first time|without much public attention|in the northern districts|"
        "last week|this morning|over the next few months|at a public meeting|in cooperation with local schools|"
        "despite strong criticism|with the support of residents|before the next election|in a short statement|"
        "on its website|in several neighbourhoods|after months of planning|at short notice|"
        "in an interview on Monday|by the end of the decade|with little fanfare|in the old town|"
        "on Tuesday evening|at the request of residents|for the second year in a row|in the coming weeks|"
        "near the river"
    ),
    connectors=split(
        "However|In addition|Meanwhile|At the same time|For this reason|Nevertheless|In the end|As a result|"
        "On the other hand|Above all|In practice|Until now|For many residents|Unsurprisingly"
    ),
    sources=split(
        "a spokesperson|the local newspaper|several residents|the official report|people close to the project|"
        "the organisers|a recent survey|the press office|industry experts|the published documents|"
        "two independent studies|the minutes of the meeting"
    ),
    clauses=split(
        "which surprised many residents|although the budget remains tight|"
        "which had been expected for a long time|as several observers pointed out|"
        "even though the details are still unclear|which is good news for families|"
        "but the decision is still controversial|which should take about two years|"
        "and the first results look promising|so that more people can take part|"
        "while critics want a different approach|which caused long discussions online|"
        "because demand has grown so quickly|as it did in previous years|which many people had asked for"
    ),
    templates=(
        "{S} {v} {o} {p}.",
        "{C}, {s} {v} {o}.",
        "{P}, {s} {v} {o}.",
        "{S} {v} {o}, {r}.",
        "According to {src}, {s} {v} {o} {p}.",
        "{S} {v} {o} and {v2} {o2}.",
        "It is still not clear whether {s} {v} {o}.",
        "Many people believe that {s} {v} {o} {p}.",
        "{C}, {s} {v} {o} {p}, {r}.",
        "When {s} {v} {o}, {s2} {v2} {o2}.",
        "{S} {v} {o} {p}, and {s2} {v2} {o2}.",
        "This is why {s} {v} {o} {p}.",
    ),
    title_templates=(
        "{S} {v} {o}",
        "{O} {p}",
        "Why {s} {v} {o}",
        "How {s} {v} {o} {p}",
        "{O}: what we know so far",
    ),
    listicle_titles=(
        "{n} things to know about {o}",
        "{n} reasons why {s} {v} {o}",
        "{n} ideas for {o}",
        "Top {n}: {o}",
        "{n} questions about {o}",
    ),
    openers=split(
        "Quick update:|Honestly,|So here is the news:|Just a short note:|Okay, so|Fun fact:|Small news:|"
        "As promised,|Heads up:|Not sure what to think, but"
    ),
    closers=split(
        "Thanks for reading!|What do you think?|More soon.|Let me know in the comments.|That's all for today.|"
        "See you next week!|Feel free to share this post.|Comments are welcome."
    ),
    comments=split(
        "Great post, thanks!|I didn't know that.|Interesting, but I disagree.|Same here.|Thanks for sharing!|"
        "Finally some good news.|Does anyone know when it starts?|Not convinced, to be honest."
    ),
    nav=split(
        "Home|News|Local|Politics|Business|Culture|Sport|Travel|Food|Opinion|Science|Technology|Health|Events|"
        "Weather|Video|Podcasts|Archive|About us|Contact|Shop|Jobs"
    ),
    footer_links=split(
        "Privacy policy|Terms of use|Imprint|Contact|Advertise|Careers|Accessibility|Sitemap|Newsletter|RSS"
    ),
    cookie_text=(
        "We use cookies and similar technologies to improve your experience, analyse traffic and show "
        "personalised content. By clicking accept you agree to our use of cookies."
    ),
    cookie_buttons=("Accept all", "Reject", "Cookie settings"),
    rights="All rights reserved.",
    related="Related articles",
    most_read="Most read",
    newsletter=("Sign up for our newsletter", "Get the best stories in your inbox every morning.", "Subscribe"),
    share=split("Share|Share on Facebook|Share on X|Copy link|Print"),
    read_more="Read more",
    search="Search",
    byline="By {name} · {date}",
    date_format="{month} {d}, {y}",
    months=split(
        "January|February|March|April|May|June|July|August|September|October|November|December"
    ),
    first_names=split("Emma|Oliver|Grace|Daniel|Sophie|James|Hannah|Thomas|Laura|Michael|Chloe|Samuel"),
    last_names=split("Walker|Hughes|Bennett|Carter|Morgan|Fletcher|Turner|Ellis|Hayes|Palmer|Reid|Porter"),
    js_warning=(
        "You need to enable JavaScript to run this app.",
        "Please enable JavaScript in your browser settings and reload the page.",
    ),
    not_found=("Page not found", "Sorry, the page you are looking for does not exist or has been moved."),
    server_error=("Internal server error", "Something went wrong on our side. Please try again later."),
    updated_note="This article was updated on {date}.",
    spam_keywords=split(
        "cheap flights|best price|buy online|free shipping|discount code|top deals|lowest price guaranteed|"
        "casino bonus|online loans|weight loss pills|cheap hotels|best vpn|car insurance quotes|payday loans"
    ),
    spam_places=split("London|Manchester|New York|Chicago|Toronto|Sydney|Dublin|Boston|near me|2024"),
    product_nouns=split(
        "running shoes|cotton shirt|winter jacket|leather bag|coffee maker|desk lamp|wool scarf|garden chair|"
        "water bottle|travel backpack|office chair|phone case|kitchen knife|bed linen|rain boots"
    ),
    product_adjs=split(
        "Lightweight|Classic|Premium|Compact|Waterproof|Vintage|Slim fit|Extra large|Organic|Handmade"
    ),
    colors=split("black|white|blue|red|green|grey|navy|beige"),
    size_word="size",
    price_format="${whole}.{cents}",
    domain_words=split(
        "daily|city|green|north|river|open|bright|local|urban|coast|maple|harbor|summit|pixel|garden|metro|"
        "valley|lake|stone|silver"
    ),
    domain_suffixes=split("news|times|post|journal|blog|guide|review|hub|today|report|chronicle|digest"),
    tlds=split("com|com|com|org|net|io|co.uk|info|us|ca|com.au"),
    sections=split("news|blog|articles|stories|guides|opinion|life|tech|travel|food"),
    accept_language="en-US,en;q=0.9",
)
