from django.db import models

from .text import search_key


def _abbreviated(name):
    """…医科大学 is commonly typed as …医大 (東京女子医大)."""
    return name.replace("医科大学", "医大") if "医科大学" in name else None


class CatalogueEntry(models.Model):
    """A name to suggest, with folded copies of what a search matches: the
    name, and one line each for the reading, aliases and former names."""

    name = models.CharField(max_length=200)
    reading = models.CharField(max_length=200)
    # `name@YYYY-MM|…`, as in the catalogue files.
    former_names = models.TextField(blank=True)
    aliases = models.TextField(blank=True)
    position = models.PositiveIntegerField(help_text="order in the catalogue")
    search_name = models.CharField(max_length=200, editable=False)
    search_other = models.TextField(editable=False)

    class Meta:
        abstract = True

    def former_list(self):
        out = []
        for item in filter(None, self.former_names.split("|")):
            name, _, until = item.partition("@")
            out.append((name, until))
        return out

    def save(self, *args, **kwargs):
        self.search_name = search_key(self.name)
        self.search_other = "\n".join(self.other_keys())
        super().save(*args, **kwargs)

    def own_keys(self):
        """The folded reading, aliases and abbreviations."""
        keys = [self.reading, _abbreviated(self.name)]
        for alias in filter(None, self.aliases.split("|")):
            keys += [alias, _abbreviated(alias)]
        return [search_key(k) for k in keys if k]

    def former_keys(self):
        """(folded key, former name, until) of each former name and its abbreviation."""
        return [
            (search_key(k), name, until)
            for name, until in self.former_list()
            for k in (name, _abbreviated(name))
            if k
        ]

    def other_keys(self):
        return self.own_keys() + [key for key, _, _ in self.former_keys()]

    def __str__(self):
        return self.name


class School(CatalogueEntry):
    """A medical school (出身校) or a university with graduate schools (大学院)."""

    MEDICAL_SCHOOLS = "school"
    UNIVERSITIES = "university"
    CATALOGUES = [(MEDICAL_SCHOOLS, "医学部"), (UNIVERSITIES, "大学院")]
    KINDS = [("national", "国立"), ("public", "公立"), ("private", "私立"), ("other", "その他")]

    catalogue = models.CharField(max_length=16, choices=CATALOGUES)
    slug = models.SlugField(max_length=64)
    kind = models.CharField(max_length=16, choices=KINDS)
    prefecture = models.CharField(max_length=8)

    class Meta:
        ordering = ["catalogue", "position"]
        constraints = [
            models.UniqueConstraint(fields=["catalogue", "slug"], name="school_slug_unique")
        ]
        indexes = [models.Index(fields=["catalogue", "position"])]


class Society(CatalogueEntry):
    """A member society of 日本医学会 (所属学会)."""

    number = models.PositiveIntegerField(unique=True)

    class Meta:
        ordering = ["position"]
