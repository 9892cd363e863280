"""The catalogue's uniqueness, on the name's blind index (the name itself is encrypted).

Apart from 0004, whose batches each commit: the constraint is added, in a transaction of its
own, once every row has its index."""

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
