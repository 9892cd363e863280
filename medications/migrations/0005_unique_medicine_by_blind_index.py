"""The catalogue's uniqueness, on the name's blind index (the name itself is encrypted).

Apart from 0004: PostgreSQL refuses to alter a table in the transaction that updated its rows
while deferred foreign-key checks on them are pending."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('medications', '0004_encrypt_personal_columns'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='medicine',
            constraint=models.UniqueConstraint(fields=('name_index', 'strength', 'form'), name='unique_medicine'),
        ),
    ]
