"""The channel and questionnaire ``init`` makes, in the six UN languages (issue 14).

Written for a frightened person who may be reading in their second language: plain
words, formal but warm, the same term for the same thing throughout (report, case
handler, receipt code). A choice's code is its English label, as before issue 14, so
installations made earlier and answers already stored keep the same codes.
"""

from __future__ import annotations

from typing import Any

from reporting_portal.domain.questionnaire import Choice, FieldType, Question

# English first: the fallback for a language a text is missing in.
LANGUAGES = ("en", "ar", "zh_Hans", "fr", "ru", "es")

SLUG = "corruption"
NAME = {
    "en": "Report corruption",
    "ar": "الإبلاغ عن الفساد",
    "zh_Hans": "举报腐败",
    "fr": "Signaler la corruption",
    "ru": "Сообщить о коррупции",
    "es": "Denunciar la corrupción",
}
DESCRIPTION = {
    "en": "Bribery, fraud, embezzlement, abuse of office, conflicts of interest or "
          "irregular procurement in public bodies.",
    "ar": "الرشوة أو الاحتيال أو الاختلاس أو إساءة استغلال الوظيفة أو تضارب المصالح أو "
          "المخالفات في المشتريات داخل الهيئات العامة.",
    "zh_Hans": "公共机构中的贿赂、欺诈、贪污、滥用职权、利益冲突或违规采购。",
    "fr": "Pots-de-vin, fraude, détournement de fonds, abus de fonctions, conflits "
          "d’intérêts ou irrégularités dans les marchés des organismes publics.",
    "ru": "Взяточничество, мошенничество, хищение, злоупотребление служебным положением, "
          "конфликт интересов или нарушения при закупках в государственных органах.",
    "es": "Soborno, fraude, malversación, abuso de funciones, conflictos de intereses o "
          "irregularidades en la contratación de los organismos públicos.",
}


def _texts(en: str, ar: str, zh: str, fr: str, ru: str, es: str) -> dict[str, str]:
    return {"en": en, "ar": ar, "zh_Hans": zh, "fr": fr, "ru": ru, "es": es}


def _choices(*rows: tuple[str, str, str, str, str, str]) -> tuple[Choice, ...]:
    return tuple(Choice(code=row[0], label=_texts(*row)) for row in rows)


# French punctuation: a no-break space (U+00A0) before ? and :.
QUESTIONS = (
    Question("what", FieldType.LONG_TEXT, required=True, label=_texts(
        "What happened?", "ماذا حدث؟", "发生了什么？", "Que s’est-il passé\u00a0?",
        "Что произошло?", "¿Qué ocurrió?"), help=_texts(
        "Describe what you saw or know, in your own words. Leave out anything that would "
        "identify you unless it is needed.",
        "صِف بكلماتك ما رأيته أو ما تعرفه. لا تذكر ما قد يكشف هويتك إلا إذا كان ذلك ضروريًا.",
        "请用您自己的话描述您看到或知道的情况。除非确有必要，请不要写任何可能暴露您身份的内容。",
        "Décrivez avec vos propres mots ce que vous avez vu ou ce que vous savez. N’indiquez "
        "rien qui permettrait de vous identifier, sauf si c’est nécessaire.",
        "Опишите своими словами, что вы видели или знаете. Не указывайте ничего, что может "
        "выдать вашу личность, если в этом нет необходимости.",
        "Describa con sus propias palabras lo que vio o lo que sabe. No incluya nada que "
        "pueda identificarle, salvo que sea necesario.")),
    Question("when", FieldType.DATE, label=_texts(
        "When did it happen (or start)?", "متى حدث ذلك (أو متى بدأ)؟",
        "事情是什么时候发生（或开始）的？",
        "Quand cela s’est-il produit (ou a-t-il commencé)\u00a0?",
        "Когда это произошло (или началось)?", "¿Cuándo ocurrió (o cuándo empezó)?"),
        help=_texts("An approximate date is fine.", "يكفي تاريخ تقريبي.", "大概的日期即可。",
                    "Une date approximative suffit.", "Достаточно приблизительной даты.",
                    "Basta con una fecha aproximada.")),
    Question("where", FieldType.SHORT_TEXT, label=_texts(
        "Where did it happen?", "أين حدث ذلك؟", "事情发生在哪里？",
        "Où cela s’est-il produit\u00a0?", "Где это произошло?", "¿Dónde ocurrió?"),
        help=_texts("Organisation, department, place or project.",
                    "الجهة أو الإدارة أو المكان أو المشروع.", "机构、部门、地点或项目。",
                    "Organisme, service, lieu ou projet.",
                    "Организация, подразделение, место или проект.",
                    "Organización, departamento, lugar o proyecto.")),
    Question("who", FieldType.LONG_TEXT, label=_texts(
        "Who was involved, and in which role?", "مَن كان متورطًا، وبأي صفة؟",
        "涉及哪些人？他们各自是什么角色？", "Qui était impliqué, et à quel titre\u00a0?",
        "Кто был причастен и в какой роли?", "¿Quiénes participaron y con qué función?"),
        help=_texts("For example: who paid or received, who approved, who knew.",
                    "مثلًا: مَن دفع أو قبض، ومَن وافق، ومَن كان يعلم.",
                    "例如：谁付了钱或收了钱，谁批准，谁知情。",
                    "Par exemple\u00a0: qui a payé ou reçu, qui a approuvé, qui était au "
                    "courant.",
                    "Например: кто платил или получал, кто одобрял, кто знал.",
                    "Por ejemplo: quién pagó o recibió, quién lo aprobó, quién lo sabía.")),
    Question("kind", FieldType.MULTIPLE_CHOICE, label=_texts(
        "What kind of wrongdoing is it?", "ما نوع المخالفة؟", "这属于哪种不当行为？",
        "De quel type de manquement s’agit-il\u00a0?", "О каком нарушении идёт речь?",
        "¿De qué tipo de irregularidad se trata?"), choices=_choices(
        ("Bribery", "رشوة", "贿赂", "Pots-de-vin", "Взяточничество", "Soborno"),
        ("Fraud", "احتيال", "欺诈", "Fraude", "Мошенничество", "Fraude"),
        ("Embezzlement or theft of public funds", "اختلاس الأموال العامة أو سرقتها",
         "贪污或盗窃公款", "Détournement ou vol de fonds publics",
         "Хищение или кража государственных средств",
         "Malversación o robo de fondos públicos"),
        ("Abuse of office", "إساءة استغلال الوظيفة", "滥用职权", "Abus de fonctions",
         "Злоупотребление служебным положением", "Abuso de funciones"),
        ("Conflict of interest", "تضارب المصالح", "利益冲突", "Conflit d’intérêts",
         "Конфликт интересов", "Conflicto de intereses"),
        ("Procurement irregularities", "مخالفات في المشتريات", "采购违规",
         "Irrégularités dans les marchés publics", "Нарушения при закупках",
         "Irregularidades en la contratación pública"),
        ("Other", "غير ذلك", "其他", "Autre", "Другое", "Otro"))),
    Question("how_known", FieldType.SINGLE_CHOICE, label=_texts(
        "How do you know about it?", "كيف عرفت بذلك؟", "您是如何得知此事的？",
        "Comment en avez-vous eu connaissance\u00a0?", "Откуда вам это известно?",
        "¿Cómo se enteró?"), choices=_choices(
        ("I saw or heard it myself", "رأيته أو سمعته بنفسي", "我亲眼看到或亲耳听到",
         "Je l’ai vu ou entendu moi-même", "Видел(а) или слышал(а) лично",
         "Lo vi o lo oí personalmente"),
        ("Someone told me", "أخبرني به شخص ما", "有人告诉我", "Quelqu’un me l’a dit",
         "Мне об этом рассказали", "Alguien me lo contó"),
        ("I found documents", "عثرت على مستندات", "我发现了相关文件",
         "J’ai trouvé des documents", "Я обнаружил(а) документы", "Encontré documentos"),
        ("Other", "غير ذلك", "其他", "Autre", "Другое", "Otro"))),
    Question("evidence", FieldType.FILE, label=_texts(
        "Evidence (optional)", "الأدلة (اختياري)", "证据（可选）", "Preuves (facultatif)",
        "Доказательства (необязательно)", "Pruebas (opcional)"), help=_texts(
        "Documents, photos or recordings. Files can contain hidden details about you "
        "(author names, locations, device details): remove them before uploading if you can.",
        "مستندات أو صور أو تسجيلات. قد تحتوي الملفات على معلومات مخفية عنك (اسم المؤلف، "
        "المواقع، بيانات الجهاز): احذفها قبل الرفع إن استطعت.",
        "文件、照片或录音。文件中可能含有关于您的隐藏信息（作者姓名、位置、设备信息）："
        "如有可能，请在上传前删除这些信息。",
        "Documents, photos ou enregistrements. Les fichiers peuvent contenir des "
        "informations cachées sur vous (nom de l’auteur, lieux, appareil utilisé)\u00a0: "
        "supprimez-les avant l’envoi si vous le pouvez.",
        "Документы, фотографии или записи. Файлы могут содержать скрытые сведения о вас "
        "(имя автора, местоположение, данные устройства): по возможности удалите их перед "
        "загрузкой.",
        "Documentos, fotos o grabaciones. Los archivos pueden contener datos ocultos sobre "
        "usted (nombre del autor, ubicaciones, datos del dispositivo): elimínelos antes de "
        "subirlos si puede.")),
    Question("reported_elsewhere", FieldType.SINGLE_CHOICE, label=_texts(
        "Have you reported this anywhere else?", "هل أبلغت عن ذلك في أي مكان آخر؟",
        "您是否已在其他地方举报过此事？", "Avez-vous signalé ces faits ailleurs\u00a0?",
        "Сообщали ли вы об этом куда-либо ещё?", "¿Ha denunciado esto en algún otro lugar?"),
        choices=_choices(
        ("No", "لا", "没有", "Non", "Нет", "No"),
        ("Yes, inside the organisation", "نعم، داخل الجهة", "有，在机构内部",
         "Oui, au sein de l’organisme", "Да, внутри организации",
         "Sí, dentro de la organización"),
        ("Yes, to another authority", "نعم، إلى جهة رسمية أخرى", "有，向其他主管机关",
         "Oui, à une autre autorité", "Да, в другой орган", "Sí, ante otra autoridad"),
        ("Yes, to the media", "نعم، إلى وسائل الإعلام", "有，向媒体", "Oui, aux médias",
         "Да, в СМИ", "Sí, a los medios de comunicación"))),
)


def default_corruption_questionnaire() -> list[dict[str, Any]]:
    """The questionnaire ``init`` gives the default channel (ISO 37002 8.2: receive)."""
    return [question.to_json() for question in QUESTIONS]
