import pytest

from textkit.slug import slugify, unique_slug


@pytest.mark.parametrize(
    ("title", "slug"),
    [("Hello World", "hello-world"), ("  Déjà vu!  ", "deja-vu"), ("a--b", "a-b")],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug


@pytest.mark.parametrize(
    "title, max_length, slug",
    [("one two three", 7, "one-two"), ("abc", 10, "abc")],
)
def test_max_length(title: str, max_length: int, slug: str) -> None:
    assert slugify(title, max_length=max_length) == slug


def test_unique_slug() -> None:
    assert unique_slug("Post", {"post", "post-2"}) == "post-3"
    assert unique_slug("Post", set(), separator="_") == "post"


def test_unique_slug_needs_letters() -> None:
    with pytest.raises(ValueError):
        unique_slug("!!!", set())
