"""Japanese pack of the demo crawl, used for the Shift_JIS-encoded pages (written for this project).

Every phrase is representable in Shift_JIS; the generator encodes the rest of a page with character
references, as legacy sites do.
"""

from flows.sources.demo_content import LanguagePack, split

PACK = LanguagePack(
    code="ja",
    subjects=split(
        "市役所|地元の図書館|大学の研究チーム|県立病院|商店街の組合|観光協会|地元のサッカークラブ|市立小学校|"
        "ボランティア団体|市長|交通局|市立美術館|消防本部|商工会議所|農業協同組合|町内会|地元の新聞社|"
        "若い建築家|水道局|保健所"
    ),
    verbs=split(
        "発表しました|検討しています|公開しました|見直しました|延期しました|支援しています|紹介しました|"
        "計画しています|始めました|説明しました|批判しました|承認しました|準備しています|調査しました|"
        "改善しました|拡大しました"
    ),
    objects=split(
        "新しい計画|来年度の予算|空気の質に関する調査|駅の改修工事|夏祭りの日程|新しいバス路線|"
        "アンケートの結果|子育て支援の制度|防災マニュアル|図書館の開館時間|公園の整備計画|地域の歴史展|"
        "自転車道の整備|観光客の統計|ごみの分別ルール|橋の補修工事|住宅に関する報告書|新しい診療所"
    ),
    adverbials=split(
        "今年の春に|先週|長い議論の末に|市の中心部で|初めて|住民の協力を得て|記者会見で|ホームページで|"
        "来月から|北部の地区で|年末までに|数か月の準備を経て|月曜日のインタビューで|川の近くで"
    ),
    connectors=split("また、|一方、|さらに、|しかし、|そのため、|実際、|これまでに、|結局、"),
    sources=split("関係者|地元の新聞|市の担当者|複数の住民|専門家|主催者"),
    clauses=split(
        "多くの住民が驚きました|予算はまだ厳しい状況です|以前から期待されていました|詳細はまだ分かっていません|"
        "家族にとっては良い知らせです|完成まで約二年かかる見込みです|最初の結果は有望です"
    ),
    templates=(
        "{s}は{p}{o}を{v}。",
        "{c}{s}は{o}を{v}。",
        "{src}によると、{s}は{p}{o}を{v}。",
        "{s}は{o}を{v}。{r}。",
        "{p}、{s}は{o}を{v}。",
        "{c}{s}は{p}{o}を{v}。{r}。",
    ),
    title_templates=("{s}、{o}を{v}", "{s}が{o}について説明", "{o}の最新情報"),
    listicle_titles=("{o}について知っておきたい{n}のこと", "{o}の{n}つのポイント"),
    openers=split("お知らせです。|ちょっとした報告です。|正直に言うと、|速報です。"),
    closers=split("読んでくれてありがとう。|皆さんはどう思いますか。|また来週。|コメントお待ちしています。"),
    comments=split("良い記事ですね。|知りませんでした。|私もそう思います。|共有ありがとうございます。"),
    nav=split("ホーム|ニュース|地域|政治|経済|文化|スポーツ|旅行|グルメ|科学|健康|イベント|天気|お問い合わせ"),
    footer_links=split("プライバシーポリシー|利用規約|会社概要|お問い合わせ|広告掲載|採用情報|サイトマップ"),
    cookie_text="当サイトでは利便性向上とアクセス解析のためにクッキーを使用しています。同意するをクリックすると、クッキーの使用に同意したものとみなされます。",
    cookie_buttons=("同意する", "拒否する", "クッキー設定"),
    rights="無断転載を禁じます。",
    related="関連記事",
    most_read="よく読まれている記事",
    newsletter=("メールマガジン登録", "毎朝おすすめの記事をお届けします。", "登録する"),
    share=split("シェア|フェイスブックでシェア|Xでシェア|リンクをコピー|印刷"),
    read_more="続きを読む",
    search="検索",
    byline="{name}　{date}",
    date_format="{y}年{m}月{d}日",
    months=split("1月|2月|3月|4月|5月|6月|7月|8月|9月|10月|11月|12月"),
    first_names=split("太郎|花子|健|美咲|翔|さくら|大輔|愛"),
    last_names=split("佐藤|鈴木|高橋|田中|伊藤|渡辺|山本|中村"),
    js_warning=(
        "このアプリを使用するにはJavaScriptを有効にしてください。",
        "ブラウザの設定でJavaScriptを有効にして、ページを再読み込みしてください。",
    ),
    not_found=("ページが見つかりません", "お探しのページは存在しないか、移動した可能性があります。"),
    server_error=("サーバーエラー", "問題が発生しました。しばらくしてからもう一度お試しください。"),
    updated_note="この記事は{date}に更新されました。",
    spam_keywords=split("格安航空券|最安値|通販|送料無料|クーポン|激安|即日融資|ダイエット"),
    spam_places=split("東京|大阪|名古屋|福岡|札幌|横浜|近く|2024"),
    product_nouns=split("ランニングシューズ|綿シャツ|冬用ジャケット|革のバッグ|コーヒーメーカー|デスクライト"),
    product_adjs=split("軽量|定番|高品質|コンパクト|防水|ヴィンテージ"),
    colors=split("黒|白|青|赤|緑|グレー"),
    size_word="サイズ",
    price_format="{whole}円",
    domain_words=split("machi|nippon|sakura|yama|kawa|umi|hikari|midori|tokai|kansai"),
    domain_suffixes=split("news|shimbun|times|net|info|blog"),
    tlds=split("jp|co.jp|ne.jp|com"),
    sections=split("news|article|local|column|topics"),
    accept_language="ja-JP,ja;q=0.9,en;q=0.5",
    sep="",
)
