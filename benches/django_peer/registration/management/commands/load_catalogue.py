"""Loads the school, university and society catalogues from MAMIS's TSV
files (src/catalog/data), replacing what was loaded before."""
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction

from registration.models import School, Society


def rows(path):
    lines = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    header = lines[0].split("\t")
    for line in lines[1:]:
        cells = line.split("\t")
        yield dict(zip(header, cells + [""] * (len(header) - len(cells))))


class Command(BaseCommand):
    help = "Load medical_schools.tsv, universities.tsv and societies.tsv"

    def add_arguments(self, parser):
        parser.add_argument("data_dir", type=Path)

    @transaction.atomic
    def handle(self, data_dir, **options):
        School.objects.all().delete()
        Society.objects.all().delete()
        for catalogue, file in [
            (School.MEDICAL_SCHOOLS, "medical_schools.tsv"),
            (School.UNIVERSITIES, "universities.tsv"),
        ]:
            for i, row in enumerate(rows(data_dir / file)):
                School(
                    catalogue=catalogue,
                    slug=row["id"],
                    name=row["name"],
                    reading=row["reading"],
                    kind=row["kind"],
                    prefecture=row["prefecture"],
                    former_names=row["former_names"],
                    aliases=row["aliases"],
                    position=i,
                ).save()
        for i, row in enumerate(rows(data_dir / "societies.tsv")):
            Society(
                number=int(row["number"]),
                name=row["name"],
                reading=row["reading"],
                former_names=row["former_names"],
                position=i,
            ).save()
        self.stdout.write(
            f"{School.objects.count()} schools and universities, "
            f"{Society.objects.count()} societies"
        )
